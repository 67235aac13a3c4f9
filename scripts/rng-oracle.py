"""Reference stream for test/init.test.ts: xoshiro128** 1.1 seeded by SplitMix64, transcribed from
the authors' C code (https://prng.di.unimi.it/xoshiro128starstar.c, splitmix64.c), independent of
src/engine/rng.ts. Run: /usr/bin/python3 scripts/rng-oracle.py"""
M32, M64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF


def splitmix64(state):
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & M64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def stream(seed, n):
    st = [seed & M64]
    w0, w1 = splitmix64(st), splitmix64(st)
    s = [w0 & M32, w0 >> 32, w1 & M32, w1 >> 32]
    out = []
    for _ in range(n):
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 11)
        out.append(result)
    return out


for seed in (0, 42, 2**40 + 7):
    u = stream(seed, 8)
    print(seed, u)
    # uniform(): (u0 >> 5) * 2^26 + (u1 >> 6), over 2^53
    print('  uniform', [repr(((u[i] >> 5) * 67108864 + (u[i + 1] >> 6)) / 9007199254740992) for i in (0, 2)])
