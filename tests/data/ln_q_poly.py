"""Prints the tables of `src/math/normal_tables.rs`. Two of polynomial pieces, each row the
coefficients (lowest degree first) of a polynomial of degree 11 in u = z - k on the piece
[k - 1/2, k + 1/2], both in φ's units (log10), since the φ query is the hot path:

* `H_POLY`, k = 0..=37: h(z) = -log10 Q(z) - z^2 log10(e)/2 = -log10(erfcx(z/sqrt 2) / 2),
  the upper tail for 0 <= z <= 37 (piece 0 on [0, 1/2] only: no negative z reaches it);
* `P_POLY`, k = 3..=38: P(a) = Q(a) exp(a^2/2) log10(e) = log10(e) erfcx(a/sqrt 2) / 2, the
  lower tail's complement Q(a) = P(a) exp(-a^2/2) ln 10 for 2.5 < a < 38.5 (row k - 3);

and one of half-width pieces, in u = 2a - k:

* `L_POLY`, k = 0..=5: L(a) = -log10(1 - Q(a)), φ just below the mean, for 0 < a <= 2.5
  (piece 0 on [0, 1/4] only);

and those of the inline exp(-a^2/2): `EXP2_NEG`, 2^(-j/64) for j = 0..64, and `EXP2_POLY`,
(ln 2/64)^i / i!, with `HALF_SQ_IN_64THS` = 32 log2(e).

Each polynomial interpolates at the 12 Chebyshev-Lobatto nodes of its piece, endpoints
included, so that neighbouring pieces agree at their common end to the rounding of their
coefficients. Values are computed with mpmath at 50 digits and printed rounded to f64; the
largest interpolation error (absolute for h, relative for P and L) is printed to stderr as a check.

Run: python3 tests/data/ln_q_poly.py  (needs `pip install mpmath`).
"""

import sys

import mpmath as mp

mp.mp.dps = 50
DEGREE = 11


def h(z):
    return -mp.log10(mp.erfc(z / mp.sqrt(2)) / 2) - z * z / 2 / mp.log(10)


def p(a):
    return mp.erfc(a / mp.sqrt(2)) / 2 * mp.exp(a * a / 2) / mp.log(10)


def lower(x):
    a = x / 2
    return -mp.log10(1 - mp.erfc(a / mp.sqrt(2)) / 2)


def piece(f, k, lo, hi, relative):
    """Monomial coefficients in u = z - k interpolating f on [lo, hi] (offsets from k)."""
    n = DEGREE + 1
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    us = [mid + half * mp.cos(mp.pi * j / DEGREE) for j in range(n)]
    a = mp.matrix([[u**q for q in range(n)] for u in us])
    b = mp.matrix([f(k + u) for u in us])
    coef = mp.lu_solve(a, b)
    err = 0
    for i in range(401):
        u = lo + (hi - lo) * mp.mpf(i) / 400
        want = f(k + u)
        got = sum(coef[q] * u**q for q in range(n))
        err = max(err, abs(got - want) / (abs(want) if relative else 1))
    return [coef[q] for q in range(n)], err


def table(name, f, ks, relative, first_lo):
    worst = 0
    print("const %s: [[f64; %d]; %d] = [" % (name, DEGREE + 1, len(ks)))
    for i, k in enumerate(ks):
        lo = first_lo if i == 0 else -mp.mpf(1) / 2
        coef, err = piece(f, mp.mpf(k), lo, mp.mpf(1) / 2, relative)
        worst = max(worst, err)
        print("    [")
        for x in coef:
            print("        %s," % repr(float(x)))
        print("    ],")
    print("];")
    print("%s: worst interpolation error %s" % (name, mp.nstr(worst, 3)), file=sys.stderr)


table("H_POLY", h, range(0, 38), False, mp.mpf(0))
print()
table("P_POLY", p, range(3, 39), True, -mp.mpf(1) / 2)
print()
table("L_POLY", lower, range(0, 6), True, mp.mpf(0))
print()
print("const HALF_SQ_IN_64THS: f64 = %s;" % repr(float(32 / mp.log(2))))
print("const EXP2_POLY: [f64; 6] = [")
for i in range(6):
    print("    %s," % repr(float((mp.log(2) / 64) ** i / mp.factorial(i))))
print("];")
print()
print("const EXP2_NEG: [f64; 64] = [")
for j in range(64):
    print("    %s," % repr(float(mp.mpf(2) ** (-mp.mpf(j) / 64))))
print("];")
