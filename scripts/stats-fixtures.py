#!/usr/bin/python3
"""Reference values for netab's statistics library (src/stats), written to test/fixtures/stats/.

Run from the repository root with Debian's python (it has scipy) and R on PATH:

    /usr/bin/python3 scripts/stats-fixtures.py

Every number the unit tests compare against comes from here: scipy.stats (wilcoxon, mannwhitneyu,
norm, t, spearmanr) and R (wilcox.test with conf.int = TRUE, psignrank/qsignrank, pwilcox/qwilcox,
pnorm/qnorm, pt, p.adjust). Datasets are generated with a fixed seed and stored in the fixtures,
so the tests never regenerate them. Re-running the script reproduces the files byte for byte.

Notes on how R is called (see also src/stats/signedrank.ts and ranksum.ts):
  * Hodges-Lehmann intervals are requested with tol.root = 1e-14 * (1 + data range), so R's
    uniroot() lands on the Walsh average / pairwise difference where the statistic jumps to well
    below 1e-9; netab computes that jump point exactly.
  * R picks the exact or normal interval from the test at `mu` and drops observations equal to mu
    before building the interval. netab decides from the data (no duplicated values and n < 50)
    and keeps zeros, so the interval is requested from R with mu placed below all the data
    (paired: mu = min(d) - 1; unpaired: mu = min(x) - max(y) - 1): no zeros and no ties at mu,
    and the interval itself does not depend on mu.
  * The point estimate is the median of the Walsh averages / pairwise differences, computed in R
    directly; wilcox.test's own estimate equals it in the exact branch, while its normal branch
    returns a uniroot() zero of the uncorrected statistic (any point of the flat middle step).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import stats

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'stats')
SEED = 20250611


def r17(v):
    """A double as R source text that parses back to the same double."""
    if v == math.inf:
        return 'Inf'
    if v == -math.inf:
        return '-Inf'
    return repr(float(v))


def rvec(xs):
    return 'c(' + ', '.join(r17(v) for v in xs) + ')'


def run_r(code):
    with tempfile.NamedTemporaryFile('w', suffix='.R', delete=False) as f:
        f.write('options(warn = -1)\nfmt <- function(v) paste(sprintf("%.17g", v), collapse = " ")\n' + code)
        path = f.name
    try:
        out = subprocess.run(['Rscript', '--vanilla', path], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    res = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        key, _, rest = line.partition(' ')
        res[key] = [float(t) for t in rest.split()] if rest.strip() else []
    return res


def fnum(v):
    """JSON-safe number: infinities as strings understood by the tests."""
    if isinstance(v, (list, tuple)):
        return [fnum(u) for u in v]
    v = float(v)
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    if math.isnan(v):
        return 'NaN'
    return v


# ----------------------------------------------------------------------------------------------
# small exact procedures (scipy and brute force only, no R):
#     /usr/bin/python3 scripts/stats-fixtures.py --exact-small
# writes test/fixtures/stats/exact-small.json and nothing else.
def exact_small():
    import itertools
    from fractions import Fraction

    # Fisher's exact test, one-sided, scipy.stats.fisher_exact; pMin = the most extreme table's p
    tables = [
        (3, 7, 0, 10), (8, 12, 0, 20), (15, 25, 0, 40), (0, 10, 0, 10), (1, 9, 0, 10), (2, 8, 1, 9),
        (5, 1, 0, 6), (6, 0, 0, 6), (10, 0, 0, 10), (0, 6, 3, 3), (4, 16, 4, 16), (20, 80, 5, 95),
        (40, 460, 1, 499), (1, 0, 0, 0), (0, 0, 0, 0), (120, 80, 60, 140), (3, 3, 3, 3), (9, 1, 1, 9),
    ]
    fisher = []
    for (a, b, c, d) in tables:
        row = dict(table=[a, b, c, d])
        for alt in ('greater', 'less'):
            p = float(stats.fisher_exact([[a, b], [c, d]], alternative=alt)[1]) if (a + b) and (c + d) else 1.0
            n, K, N = a + b, a + c, a + b + c + d
            lo, hi = max(0, n - (N - K)), min(K, n)
            ext = hi if alt == 'greater' else lo
            pmin = float(stats.hypergeom.pmf(ext, N, K, n)) if lo != hi else 1.0
            row[alt] = dict(p=p, pMin=pmin)
        fisher.append(row)

    # exact signed-rank test conditional on the midranks (ties), by enumerating all 2^n sign patterns
    def midranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r

    def signed_conditional(d, mu):
        s = [x - mu for x in d]
        nz = [x for x in s if x != 0]
        ranks = midranks([abs(x) for x in nz])
        v = sum(r for r, x in zip(ranks, nz) if x > 0)
        le = ge = Fraction(0)
        tot = 2 ** len(nz)
        for signs in itertools.product((0, 1), repeat=len(nz)):
            w = sum(r for r, sg in zip(ranks, signs) if sg)
            if w <= v + 1e-9:
                le += 1
            if w >= v - 1e-9:
                ge += 1
        le, ge = float(le / tot), float(ge / tot)
        mean = len(nz) * (len(nz) + 1) / 4
        two = min(1.0, 2 * (ge if v > mean else le))
        return dict(statistic=v, less=le, greater=ge, two=two)

    signed_sets = [
        dict(name='five_identical', d=[-0.3] * 5),
        dict(name='four_identical', d=[-0.3] * 4),
        dict(name='ties_and_zero', d=[0.0, 1.0, 1.0, -2.0, 3.0, 3.0]),
        dict(name='ties_small', d=[-0.5, -0.5, -0.2, -0.2, -0.2]),
        dict(name='ties_mixed_9', d=[1, 1, 2, -1, 3, 3, 3, -2, 4]),
        dict(name='no_ties_6', d=[-0.11, -0.2, -0.05, -0.31, -0.08, 0.02]),
    ]
    signed = []
    for ds in signed_sets:
        d = [float(x) for x in ds['d']]
        signed.append(dict(name=ds['name'], d=d, mu0=signed_conditional(d, 0.0), muMinus=signed_conditional(d, -0.25)))

    def ranksum_conditional(x, y, mu):
        xs = [v - mu for v in x]
        pooled = xs + list(y)
        ranks = midranks(pooled)
        nx = len(x)
        w = sum(ranks[:nx]) - nx * (nx + 1) / 2
        le = ge = tot = 0
        for comb in itertools.combinations(range(len(pooled)), nx):
            u = sum(ranks[i] for i in comb) - nx * (nx + 1) / 2
            tot += 1
            if u <= w + 1e-9:
                le += 1
            if u >= w - 1e-9:
                ge += 1
        le, ge = le / tot, ge / tot
        two = min(1.0, 2 * (ge if w > nx * len(y) / 2 else le))
        return dict(statistic=w, less=le, greater=ge, two=two)

    rs_sets = [
        dict(name='ties_5x5', x=[1, 1, 2, 2, 3], y=[2, 3, 3, 4, 4]),
        dict(name='ties_4x6', x=[0, 0, 1, 0], y=[1, 2, 1, 3, 0, 2]),
        dict(name='identical_5x5', x=[7] * 5, y=[7] * 5),
        dict(name='no_ties_5x4', x=[0.3, 1.2, -0.4, 2.2, 0.9], y=[1.5, 2.5, 3.1, 0.1]),
    ]
    ranksum = []
    for ds in rs_sets:
        x = [float(v) for v in ds['x']]
        y = [float(v) for v in ds['y']]
        ranksum.append(dict(name=ds['name'], x=x, y=y, mu0=ranksum_conditional(x, y, 0.0), muMinus=ranksum_conditional(x, y, -0.5)))

    # weighted sequentially rejective Bonferroni: brute-force closed test with weighted Bonferroni
    # local tests; weights depend on the open set J only (the judge's gatekeeping weights:
    # scenarios share α equally, inside a scenario the critical family gets `share` and the
    # others the rest, equal split inside a family, a family that is empty passes its share on)
    def weights(J, groups, shares):
        scen = sorted({groups[i][0] for i in J})
        w = {}
        for s in scen:
            fam = {f: [i for i in J if groups[i] == (s, f)] for f in ('c', 'o')}
            share = shares[s]
            if fam['c'] and fam['o']:
                fs = {'c': share, 'o': 1 - share}
            else:
                fs = {'c': 1.0, 'o': 1.0}
            for f, members in fam.items():
                for i in members:
                    w[i] = fs[f] / len(fam[f]) / len(scen)
        return w

    def closed(p, groups, shares):
        idx = [i for i in range(len(p)) if p[i] is not None]
        adj = {}
        for i in idx:
            worst = 0.0
            for r in range(1, len(idx) + 1):
                for J in itertools.combinations(idx, r):
                    if i not in J:
                        continue
                    w = weights(J, groups, shares)
                    local = min((p[j] / w[j]) if w[j] > 0 else math.inf for j in J)
                    worst = max(worst, local)
            adj[i] = min(1.0, worst)
        return [adj.get(i) for i in range(len(p))]

    gk_cases = [
        dict(name='issue_32kb_one_scenario', p=[1 / 64, 0.6, 1.0, 0.3], groups=[(0, 'c'), (0, 'o'), (0, 'o'), (0, 'o')], shares=[2 / 3]),
        dict(name='two_scenarios', p=[0.004, 0.001, 0.02, 0.03, 0.5, 0.01], groups=[(0, 'c'), (0, 'o'), (0, 'o'), (1, 'c'), (1, 'c'), (1, 'o')], shares=[2 / 3, 2 / 3]),
        dict(name='full_share', p=[0.04, 0.001, None, 0.2], groups=[(0, 'c'), (0, 'o'), (0, 'o'), (1, 'c')], shares=[1.0, 0.8]),
        dict(name='noncritical_only', p=[0.003, 0.004, 0.9], groups=[(0, 'o'), (0, 'o'), (0, 'o')], shares=[0.8]),
        dict(name='equal_is_holm', p=[0.01, 0.04, 0.03, 0.005], groups=[(0, 'c'), (1, 'c'), (2, 'c'), (3, 'c')], shares=[1, 1, 1, 1]),
    ]
    gatekeeping = []
    for c in gk_cases:
        gatekeeping.append(dict(name=c['name'], p=c['p'], groups=[list(g) for g in c['groups']], shares=c['shares'], adjusted=closed(c['p'], c['groups'], c['shares'])))

    out = dict(fisher=fisher, signedRankConditional=signed, rankSumConditional=ranksum, gatekeeping=gatekeeping,
               source='scipy.stats.fisher_exact/hypergeom; conditional rank tests by enumerating every sign pattern / '
                      'assignment; gatekeeping adjusted p-values by brute-force closed testing')
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'exact-small.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.normpath(os.path.join(OUT, "exact-small.json"))}')


if '--exact-small' in sys.argv:
    exact_small()
    sys.exit(0)


# ----------------------------------------------------------------------------------------------
# datasets
rng = np.random.default_rng(SEED)


def lognormal_pairs(n, cv, shift):
    s = math.sqrt(math.log(1 + cv * cv))
    control = rng.lognormal(math.log(100), s, n)
    canary = rng.lognormal(math.log(100) + shift, s, n)
    return [float(v) for v in np.log(canary / control)]


paired = [
    dict(name='p_n4_unreachable', d=[0.031, -0.012, 0.044, 0.027], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n5_min_achievable', d=[0.021, -0.004, 0.013, 0.035, 0.008], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n6_lognormal', d=lognormal_pairs(6, 0.05, 0.0), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n8_regression', d=lognormal_pairs(8, 0.05, math.log(0.9)), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n10_normal', d=[float(v) for v in rng.normal(0.01, 0.03, 10)], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n12_all_positive', d=[float(v) for v in np.abs(rng.normal(0.05, 0.02, 12)) + 0.001], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n20_regression', d=lognormal_pairs(20, 0.05, math.log(0.9)), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n20_skewed', d=[float(v) for v in rng.exponential(0.04, 20) - 0.03], alpha=0.05, tau=math.log(0.95)),
    dict(name='p_n25_alpha025', d=lognormal_pairs(25, 0.08, 0.03), alpha=0.025, tau=math.log(0.98)),
    dict(name='p_n30_improve', d=lognormal_pairs(30, 0.05, 0.05), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n49_exact_edge', d=lognormal_pairs(49, 0.05, -0.01), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n50_normal', d=lognormal_pairs(50, 0.05, -0.01), alpha=0.05, tau=math.log(0.98)),
    dict(name='p_n100_skewed', d=[float(v) for v in rng.lognormal(-3, 1, 100) - 0.06], alpha=0.1, tau=-0.02),
    dict(name='p_ties_integers', d=[0, 1, -1, 2, 0, 3, 1, 1, -2, 4, 2, 0, 5, 1, -1, 3], alpha=0.05, tau=-1.0),
    dict(name='p_ties_rounded', d=[float(v) for v in np.round(rng.normal(0.02, 0.03, 18), 2)], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_one_zero', d=[0.0, 0.017, -0.009, 0.026, 0.031, -0.004, 0.012, 0.044, 0.008, 0.021], alpha=0.05, tau=math.log(0.98)),
    dict(name='p_zeros', d=[0.0, 0.012, -0.007, 0.0, 0.021, 0.034, -0.015, 0.009, 0.027, 0.0, 0.018, 0.041], alpha=0.05, tau=math.log(0.98)),
]
for ds in paired:
    if ds['name'] == 'p_ties_rounded':
        ds['d'] = [v if v != 0 else 0.01 for v in ds['d']]  # keep this one free of zeros (ties only)

unpaired = [
    dict(name='u_2x3_unreachable', x=[1.2, 0.7], y=[0.9, 1.5, 0.3], alpha=0.05, tau=-0.5),
    dict(name='u_3x4_small', x=[4.61, 4.58, 4.66], y=[4.6, 4.52, 4.55, 4.57], alpha=0.05, tau=math.log(0.98)),
    dict(name='u_5x5', x=[float(v) for v in rng.normal(4.6, 0.05, 5)], y=[float(v) for v in rng.normal(4.6, 0.05, 5)], alpha=0.05, tau=math.log(0.98)),
    dict(name='u_10x12_lognormal', x=[float(v) for v in np.log(rng.lognormal(math.log(95), 0.05, 10))], y=[float(v) for v in np.log(rng.lognormal(math.log(100), 0.05, 12))], alpha=0.05, tau=math.log(0.98)),
    dict(name='u_20x20_shift', x=[float(v) for v in rng.normal(0.1, 1, 20)], y=[float(v) for v in rng.normal(0, 1, 20)], alpha=0.05, tau=-0.2),
    dict(name='u_15x25_skewed', x=[float(v) for v in rng.exponential(1.0, 15)], y=[float(v) for v in rng.exponential(1.5, 25)], alpha=0.05, tau=-0.1),
    dict(name='u_8x40_unequal', x=[float(v) for v in rng.normal(1.0, 0.2, 8)], y=[float(v) for v in rng.normal(1.1, 0.2, 40)], alpha=0.05, tau=-0.05),
    dict(name='u_49x30_exact_edge', x=[float(v) for v in rng.normal(0, 1, 49)], y=[float(v) for v in rng.normal(0.3, 1, 30)], alpha=0.05, tau=-0.1),
    dict(name='u_50x50_normal', x=[float(v) for v in rng.normal(0, 1, 50)], y=[float(v) for v in rng.normal(0.2, 1, 50)], alpha=0.05, tau=-0.1),
    dict(name='u_ties_rounded', x=[float(v) for v in np.round(rng.normal(1.0, 0.1, 14), 1)], y=[float(v) for v in np.round(rng.normal(1.05, 0.1, 16), 1)], alpha=0.05, tau=-0.05),
    dict(name='u_ties_counts', x=[0, 0, 1, 0, 2, 1, 0, 0, 3, 1], y=[1, 0, 2, 2, 1, 3, 0, 4, 2, 1, 1], alpha=0.05, tau=-0.5),
    dict(name='u_alpha10_12x9', x=[float(v) for v in rng.normal(0.0, 1, 12)], y=[float(v) for v in rng.normal(-0.8, 1, 9)], alpha=0.1, tau=-0.3),
]


def has_dups(v):
    return len(set(v)) != len(v)


def signed_exact_at(d, mu):
    s = [v - mu for v in d]
    nz = [v for v in s if v != 0]
    return len(nz) < 50 and len(nz) == len(s) and not has_dups([abs(v) for v in nz])


def ranksum_exact_at(x, y, mu):
    pooled = [v - mu for v in x] + list(y)
    return len(x) < 50 and len(y) < 50 and not has_dups(pooled)


def scipy_wilcoxon(d, mu, alternative):
    s = np.array([v - mu for v in d], dtype=float)
    if np.all(s == 0):
        return 1.0
    method = 'exact' if signed_exact_at(d, mu) else 'approx'
    return float(stats.wilcoxon(s, zero_method='wilcox', correction=True, alternative=alternative, method=method).pvalue)


def scipy_mwu(x, y, mu, alternative):
    xs = np.array([v - mu for v in x], dtype=float)
    method = 'exact' if ranksum_exact_at(x, y, mu) else 'asymptotic'
    return float(stats.mannwhitneyu(xs, np.array(y, dtype=float), use_continuity=True, alternative=alternative, method=method).pvalue)


def cliffs(x, y):
    s = 0
    for a in x:
        for b in y:
            s += (a > b) - (a < b)
    return s / (len(x) * len(y))


# ----------------------------------------------------------------------------------------------
# R part for the rank procedures
code = []
for ds in paired:
    d, a, t = ds['d'], ds['alpha'], ds['tau']
    n = ds['name']
    rng_ = max(d) - min(d)
    code.append(f'''d <- {rvec(d)}
w <- outer(d, d, "+"); w <- sort(w[!lower.tri(w)]) / 2
cat("{n}.hl", fmt(median(w)), "\\n")
r <- wilcox.test(d, mu = min(d) - 1, conf.int = TRUE, conf.level = {r17(1 - 2 * a)}, tol.root = {r17(1e-14 * (1 + rng_))})
cat("{n}.ci", fmt(r$conf.int), "\\n")
cat("{n}.p", fmt(wilcox.test(d, mu = 0)$p.value), "\\n")
cat("{n}.pmargin", fmt(wilcox.test(d, mu = {r17(t)}, alternative = "less")$p.value), "\\n")
cat("{n}.pgreater", fmt(wilcox.test(d, mu = 0, alternative = "greater")$p.value), "\\n")
''')
for ds in unpaired:
    x, y, a, t = ds['x'], ds['y'], ds['alpha'], ds['tau']
    n = ds['name']
    rng_ = max(max(x), max(y)) - min(min(x), min(y))
    code.append(f'''x <- {rvec(x)}; y <- {rvec(y)}
cat("{n}.hl", fmt(median(outer(x, y, "-"))), "\\n")
r <- wilcox.test(x, y, mu = min(x) - max(y) - 1, conf.int = TRUE, conf.level = {r17(1 - 2 * a)}, tol.root = {r17(1e-14 * (1 + rng_))})
cat("{n}.ci", fmt(r$conf.int), "\\n")
cat("{n}.p", fmt(wilcox.test(x, y, mu = 0)$p.value), "\\n")
cat("{n}.pmargin", fmt(wilcox.test(x, y, mu = {r17(t)}, alternative = "less")$p.value), "\\n")
cat("{n}.pgreater", fmt(wilcox.test(x, y, mu = 0, alternative = "greater")$p.value), "\\n")
''')
R = run_r('\n'.join(code))


def check_close(a, b, what, tol=1e-12):
    if not (abs(a - b) <= tol * max(1.0, abs(a), abs(b))):
        sys.exit(f'scipy and R disagree on {what}: {a!r} vs {b!r}')


rank_cases = []
for ds in paired:
    d, a, t, n = ds['d'], ds['alpha'], ds['tau'], ds['name']
    p_scipy = scipy_wilcoxon(d, 0.0, 'two-sided')
    pm_scipy = scipy_wilcoxon(d, t, 'less')
    pg_scipy = scipy_wilcoxon(d, 0.0, 'greater')
    check_close(p_scipy, R[n + '.p'][0], n + ' p')
    check_close(pm_scipy, R[n + '.pmargin'][0], n + ' pmargin')
    check_close(pg_scipy, R[n + '.pgreater'][0], n + ' pgreater')
    rank_cases.append(dict(
        name=n, kind='paired', d=d, alpha=a, conf=1 - 2 * a, tau=t,
        methodCI='exact' if (len(d) < 50 and not has_dups(d)) else 'normal',
        methodP='exact' if signed_exact_at(d, 0.0) else 'normal',
        p=p_scipy, pMargin=pm_scipy, pGreater=pg_scipy,
        hl=R[n + '.hl'][0], ci=fnum(R[n + '.ci']),
        ciSource='R wilcox.test(d, mu = min(d) - 1, conf.int = TRUE)',
        ciReachable=not (n == 'p_n4_unreachable'),
    ))
for ds in unpaired:
    x, y, a, t, n = ds['x'], ds['y'], ds['alpha'], ds['tau'], ds['name']
    p_scipy = scipy_mwu(x, y, 0.0, 'two-sided')
    pm_scipy = scipy_mwu(x, y, t, 'less')
    pg_scipy = scipy_mwu(x, y, 0.0, 'greater')
    check_close(p_scipy, R[n + '.p'][0], n + ' p')
    check_close(pm_scipy, R[n + '.pmargin'][0], n + ' pmargin')
    check_close(pg_scipy, R[n + '.pgreater'][0], n + ' pgreater')
    rank_cases.append(dict(
        name=n, kind='unpaired', x=x, y=y, alpha=a, conf=1 - 2 * a, tau=t,
        methodCI='exact' if (len(x) < 50 and len(y) < 50 and not has_dups(x) and not has_dups(y)) else 'normal',
        methodP='exact' if ranksum_exact_at(x, y, 0.0) else 'normal',
        p=p_scipy, pMargin=pm_scipy, pGreater=pg_scipy,
        hl=R[n + '.hl'][0], ci=fnum(R[n + '.ci']),
        ciSource='R wilcox.test(x, y, mu = min(x) - max(y) - 1, conf.int = TRUE)',
        ciReachable=not (n == 'u_2x3_unreachable'),
        cliffsDelta=cliffs(x, y),
    ))

# ----------------------------------------------------------------------------------------------
# exact distributions
dist_code = []
for n in (1, 5, 10, 20, 30, 49):
    dist_code.append(f'cat("sr{n}", fmt(psignrank(0:{n * (n + 1) // 2}, {n})), "\\n")')
for p in (0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.95):
    for n in (6, 12, 25, 49):
        dist_code.append(f'cat("qsr_{p}_{n}", fmt(qsignrank({p}, {n})), "\\n")')
for (m, n) in ((1, 1), (2, 3), (5, 7), (10, 10), (20, 15), (49, 49)):
    dist_code.append(f'cat("rs{m}_{n}", fmt(pwilcox(0:{m * n}, {m}, {n})), "\\n")')
for p in (0.005, 0.025, 0.05, 0.1, 0.5, 0.9):
    for (m, n) in ((4, 6), (12, 9), (30, 40)):
        dist_code.append(f'cat("qrs_{p}_{m}_{n}", fmt(qwilcox({p}, {m}, {n})), "\\n")')
RD = run_r('\n'.join(dist_code))
distributions = dict(
    signedRankCdf=[dict(n=n, cdf=RD[f'sr{n}']) for n in (1, 5, 10, 20, 30, 49)],
    signedRankQuantile=[dict(p=p, n=n, q=RD[f'qsr_{p}_{n}'][0]) for p in (0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.95) for n in (6, 12, 25, 49)],
    rankSumCdf=[dict(nx=m, ny=n, cdf=RD[f'rs{m}_{n}']) for (m, n) in ((1, 1), (2, 3), (5, 7), (10, 10), (20, 15), (49, 49))],
    rankSumQuantile=[dict(p=p, nx=m, ny=n, q=RD[f'qrs_{p}_{m}_{n}'][0]) for p in (0.005, 0.025, 0.05, 0.1, 0.5, 0.9) for (m, n) in ((4, 6), (12, 9), (30, 40))],
    source='R psignrank/qsignrank/pwilcox/qwilcox',
)

# ----------------------------------------------------------------------------------------------
# normal distribution
xs = [-38.0, -37.5, -30.0, -20.0, -10.0, -8.0, -5.0, -3.0, -2.5, -2.0, -1.9999, -1.5, -1.0, -0.5, -1e-8, 0.0,
      1e-8, 0.3, 1.0, 1.6448536269514722, 1.96, 2.0, 3.0, 5.0, 8.2, 10.0, 37.0]
ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.02425, 0.0243, 0.025, 0.05, 0.1, 0.3, 0.4999999,
      0.5, 0.5000001, 0.7, 0.9, 0.95, 0.975, 0.99, 0.999999, 0.9999999999]
RN = run_r('\n'.join([
    f'cat("cdf", fmt(pnorm({rvec(xs)})), "\\n")',
    f'cat("sf", fmt(pnorm({rvec(xs)}, lower.tail = FALSE)), "\\n")',
    f'cat("pdf", fmt(dnorm({rvec(xs)})), "\\n")',
    f'cat("q", fmt(qnorm({rvec(ps)})), "\\n")',
    f'cat("isf", fmt(qnorm({rvec(ps)}, lower.tail = FALSE)), "\\n")',
]))
normal = dict(
    x=xs,
    cdfR=RN['cdf'], sfR=RN['sf'], pdfR=RN['pdf'],
    cdfScipy=[float(stats.norm.cdf(v)) for v in xs], sfScipy=[float(stats.norm.sf(v)) for v in xs],
    p=ps,
    quantileR=RN['q'], isfR=RN['isf'],
    quantileScipy=[float(stats.norm.ppf(v)) for v in ps], isfScipy=[float(stats.norm.isf(v)) for v in ps],
    source='R pnorm/dnorm/qnorm and scipy.stats.norm',
)

# ----------------------------------------------------------------------------------------------
# t distribution, Spearman, Holm, spending
t_grid = [(0.0, 5), (0.5, 3), (1.2, 10), (-1.2, 10), (2.1, 18), (3.5, 8), (-4.0, 30), (10.0, 2), (25.0, 18), (1e-3, 100), (7.5, 48)]
RT = run_r('\n'.join(f'cat("t{i}", fmt(pt({r17(t)}, {df}, lower.tail = FALSE)), "\\n")' for i, (t, df) in enumerate(t_grid)))
student_t = [dict(t=t, df=df, sf=float(stats.t.sf(t, df)), sfR=RT[f't{i}'][0]) for i, (t, df) in enumerate(t_grid)]

spear_series = [
    ('trend_up', [float(v) for v in 100 + 0.4 * np.arange(20) + rng.normal(0, 1.5, 20)]),
    ('no_trend', [float(v) for v in rng.normal(100, 5, 20)]),
    ('ties', [10, 11, 11, 12, 10, 13, 13, 13, 14, 12, 15, 15]),
    ('down_small', [5.0, 4.8, 4.9, 4.1, 3.9, 4.0]),
    ('perfect', [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
]
# more series for the p-value (its own generator, so the draws above stay as they were): no ties at
# n = 5..9 (exact) and 10..60 (AS 89's Edgeworth series), a perfect order at 5 and 10, ties at 6 and 8
# (exact permutation distribution) and at 12 (t approximation)
rng_sp = np.random.default_rng(SEED + 1)
for n in (5, 6, 7, 8, 9, 10, 11, 15, 20, 30, 60):
    for k, slope in enumerate((0.0, 0.4, 1.5)):
        spear_series.append((f'n{n}_slope{slope}', [float(round(v, 6)) for v in slope * np.arange(n) * 3 / n + rng_sp.normal(0, 1, n)]))
spear_series += [
    ('perfect_down_5', [5.0, 4.0, 3.0, 2.0, 1.0]),
    ('perfect_10', [float(v) for v in range(10)]),
    ('ties_6', [0.0, 0.0, 0.01, 0.0, 0.02, 0.02]),
    ('ties_8', [3.0, 1.0, 3.0, 2.0, 2.0, 1.0, 1.0, 0.0]),
    ('ties_12_zeros', [0.0, 0.0, 0.0, 0.004, 0.0, 0.0, 0.01, 0.0, 0.0, 0.02, 0.0, 0.03]),
]
RS = run_r('\n'.join(f'cat("s{i}", fmt(cor.test(0:{len(ys) - 1}, {rvec(ys)}, method = "spearman")$p.value), "\\n")'
                      for i, (_, ys) in enumerate(spear_series)))
spearman = []
for i, (name, ys) in enumerate(spear_series):
    x = np.arange(len(ys))
    res = stats.spearmanr(x, ys)
    if has_dups(ys) and len(ys) <= 9:
        # R's cor.test falls back to the t approximation with ties; the exact permutation p-value
        # one sample: its n! orders against x (two samples would permute both, (n!)² pairings)
        perm = stats.permutation_test((ys,), lambda b: stats.spearmanr(x, b).correlation,
                                      permutation_type='pairings', n_resamples=np.inf, alternative='two-sided')
        p, src = float(perm.pvalue), 'scipy.stats.permutation_test (pairings, all n!)'
    else:
        p, src = RS[f's{i}'][0], 'R cor.test(method = "spearman")'
    spearman.append(dict(name=name, x=list(range(len(ys))), y=ys, rho=float(res.correlation), p=p, pSource=src,
                         pScipyT=float(res.pvalue), theilSen=float(stats.theilslopes(ys, x).slope)))

holm_vectors = [
    [0.01, 0.04, 0.03, 0.005],
    [0.2, 0.2, 0.01, 0.5, 0.04],
    [1e-8, 0.9, 0.049, 0.051, 0.02, 0.3],
    [0.5],
    [0.03, 0.03, 0.03],
]
RH = run_r('\n'.join(f'cat("h{i}", fmt(p.adjust({rvec(v)}, "holm")), "\\n")' for i, v in enumerate(holm_vectors)))
holm = [dict(p=v, adjusted=RH[f'h{i}']) for i, v in enumerate(holm_vectors)]


def hsd(t, a, g):
    return a * (1 - math.exp(-g * t)) / (1 - math.exp(-g)) if g != 0 else a * t


def obf(t, a):
    return 0.0 if t == 0 else 2 * float(stats.norm.sf(stats.norm.isf(a / 2) / math.sqrt(t)))


spending = []
for K in (1, 2, 3, 4, 5, 8):
    for a in (0.05, 0.025):
        looks = []
        for k in range(1, K + 1):
            if K == 1:
                looks.append(a)
            else:
                hi = a if k == K else hsd(k / K, a, -4)
                looks.append(hi - hsd((k - 1) / K, a, -4))
        spending.append(dict(alpha=a, planned=K, hsdMinus4=looks,
                             obf=[obf(k / K, a) for k in range(1, K + 1)]))

other = dict(studentT=student_t, spearman=spearman, holm=holm, spending=spending,
             source='scipy.stats.t/spearmanr/theilslopes, R pt/p.adjust(holm)/cor.test(spearman), scipy.stats.permutation_test; spending computed from its formula with scipy.stats.norm')

os.makedirs(OUT, exist_ok=True)
for fname, obj in (('rank-procedures.json', dict(seed=SEED, scipy=__import__('scipy').__version__, cases=rank_cases)),
                   ('distributions.json', distributions),
                   ('normal.json', normal),
                   ('other.json', other)):
    with open(os.path.join(OUT, fname), 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')
print(f'wrote {len(rank_cases)} rank-procedure datasets and 3 more fixture files to {os.path.normpath(OUT)}')
