# Independent known-answer computation for Bisik's reporter key derivation:
# argon2id(secret="0"*16, salt=16 zero bytes, m=256 KiB, t=1, p=1, 32 bytes)
# -> HKDF-SHA256(salt=None, info="bisik/v1/reporter-age-x25519-identity", 32 bytes)
# -> X25519 scalar -> public key -> bech32 "age1..."
from argon2.low_level import hash_secret_raw, Type
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= GEN[i] if ((b >> i) & 1) else 0
    return chk
def hrp_expand(hrp): return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
def convertbits(data, frombits, tobits):
    acc = bits = 0; ret = []; maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value; bits += frombits
        while bits >= tobits:
            bits -= tobits; ret.append((acc >> bits) & maxv)
    if bits: ret.append((acc << (tobits - bits)) & maxv)
    return ret
def bech32_encode(hrp, data):
    d = convertbits(data, 8, 5)
    pm = polymod(hrp_expand(hrp) + d + [0]*6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[x] for x in d + chk)

stretched = hash_secret_raw(b"0"*16, bytes(16), time_cost=1, memory_cost=256, parallelism=1, hash_len=32, type=Type.ID, version=19)
scalar = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bisik/v1/reporter-age-x25519-identity").derive(stretched)
pub = X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
print(bech32_encode("age", pub))

# The post-quantum reporter key: the same Argon2id output,
# -> HKDF-SHA256(salt=None, info="bisik/v1/reporter-age-mlkem768x25519-identity", 32 bytes)
# -> the X-Wing seed, written as the age identity "AGE-SECRET-KEY-PQ-1..." (the seed is the
# identity; its recipient follows from the X-Wing key generation, checked by the X-Wing vectors)
seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bisik/v1/reporter-age-mlkem768x25519-identity").derive(stretched)
print(bech32_encode("age-secret-key-pq-", seed).upper())
