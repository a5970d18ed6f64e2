#!/usr/bin/env python3
"""Regenerates FastMath.ERFCX: Chebyshev fits of erfcx(z) = exp(z^2) erfc(z) on [k/2, k/2 + 1/2), k = 0..53.

Usage: python3 fit_erfcx.py [degree=9] [width=0.5] [end=27]   (needs mpmath)
Prints the worst relative error, then one row per interval, lowest degree first, in s = z - (k + 1/2) * width.
"""
import sys

import mpmath as mp

mp.mp.dps = 40
degree = int(sys.argv[1]) if len(sys.argv) > 1 else 9
width = mp.mpf(sys.argv[2]) if len(sys.argv) > 2 else mp.mpf('0.5')
end = int(sys.argv[3]) if len(sys.argv) > 3 else 27


def erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


worst = 0
rows = []
for k in range(int(mp.ceil(end / width))):
    half = width / 2
    centre = width * k + half
    poly = mp.chebyfit(lambda s: erfcx(centre + s), [-half, half], degree + 1)
    for i in range(200):
        s = -half + 2 * half * i / 199
        worst = max(worst, abs(mp.polyval(poly, s) / erfcx(centre + s) - 1))
    rows.append([float(c) for c in reversed(poly)])
print('// degree %d, width %s, %d intervals, max relative error %s' % (degree, width, len(rows), mp.nstr(worst, 3)))
for row in rows:
    for i in range(0, len(row), 5):
        print('        ' + ', '.join(repr(c) for c in row[i:i + 5]) + ',')
