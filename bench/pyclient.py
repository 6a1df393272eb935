#!/usr/bin/env python3
"""The seed's approach to OrderQuery, for the side-by-side of BENCHMARKS.md.

A reproduction of the seed document's Python client (requests + AES +
json.loads): POST /Nonce, build the message, sign it, AES-256-CBC encrypt
it, POST /Order, decrypt the reply, verify its Sign, json.loads it. By default it
uses one requests.Session (keep-alive), which costs less CPU than the
seed's requests.post per request (-nosession): the comparison is against
the cheaper variant.

Prints one line of JSON: its own CPU time (getrusage of this process,
user+sys) and wall time per call over -n calls after -warm calls.
"""
import argparse, hashlib, json, resource, sys, time

import requests
try:
    from Crypto.Cipher import AES
except ImportError:  # Debian's python3-pycryptodome
    from Cryptodome.Cipher import AES

SHOP = "NA0249_001"
A1, A2, B1, B2 = "86D50DEF3EB7400E", "01FD27C09E5549E5", "9E004965F4244953", "7FB3385F414E4F91"


def xor_hex(p, q):
    return bytes(x ^ y for x, y in zip(bytes.fromhex(p), bytes.fromhex(q))).hex().upper()


HASH_ID = xor_hex(A1, A2) + xor_hex(B1, B2)


def iv_of(nonce):
    return hashlib.sha256(nonce.encode()).hexdigest().upper()[-16:].encode()


def sign_of(obj, nonce):
    pairs = sorted(((k, v) for k, v in obj.items()
                    if v is not None and v != "" and not isinstance(v, (dict, list))),
                   key=lambda kv: kv[0].lower())
    s = "&".join(f"{k}={v}" for k, v in pairs)
    return hashlib.sha256((s + nonce + HASH_ID).encode()).hexdigest().upper()


def encrypt(plain, nonce):
    pad = 16 - len(plain) % 16
    c = AES.new(HASH_ID.encode(), AES.MODE_CBC, iv_of(nonce))
    return c.encrypt(plain + bytes([pad]) * pad).hex().upper()


def decrypt(msg, nonce):
    c = AES.new(HASH_ID.encode(), AES.MODE_CBC, iv_of(nonce))
    buf = c.decrypt(bytes.fromhex(msg))
    return buf[:-buf[-1]]


def query_orders(session, base, cond):
    nonce = session.post(base + "/Nonce", json={"ShopNo": SHOP}).json()["Nonce"]
    msg = {"ShopNo": SHOP, **{k: v for k, v in cond.items() if v}}
    plain = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()
    env = {"Version": "1.0.0", "ShopNo": SHOP, "APIService": "OrderQuery",
           "Sign": sign_of(msg, nonce), "Nonce": nonce, "Message": encrypt(plain, nonce)}
    resp = session.post(base + "/Order", json=env).json()
    reply = json.loads(decrypt(resp["Message"], resp["Nonce"]))
    if sign_of(reply, resp["Nonce"]) != resp["Sign"].upper():
        raise ValueError("Sign mismatch")
    if reply["Status"] != "S":
        raise ValueError(reply["Description"])
    return reply


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-url", required=True)
    ap.add_argument("-mode", default="single")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("-warm", type=int, default=20)
    ap.add_argument("-label", default="python")
    ap.add_argument("-nosession", action="store_true",
                    help="requests.post per request, as the seed's code calls it (a new connection each time)")
    a = ap.parse_args()
    cond, want = {"OrderNo": "A202110507397"}, 1
    if a.mode == "page":
        cond, want = {"OrderDateTimeS": "202610010000", "OrderDateTimeE": "202610312359"}, 300
    s = requests if a.nosession else requests.Session()

    def call():
        r = query_orders(s, a.url, cond)
        if len(r["OrderList"]) != want:
            raise ValueError(f"{len(r['OrderList'])} orders, want {want}")

    for _ in range(a.warm):
        call()
    c0, t0 = cpu(), time.perf_counter()
    for _ in range(a.n):
        call()
    c1, t1 = cpu(), time.perf_counter()
    print(json.dumps({"client": a.label, "mode": a.mode, "calls": a.n,
                      "cpu_us_per_call": (c1 - c0) / a.n * 1e6,
                      "wall_us_per_call": (t1 - t0) / a.n * 1e6}))


if __name__ == "__main__":
    sys.exit(main())
