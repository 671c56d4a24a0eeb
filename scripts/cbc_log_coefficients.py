"""Coefficients of the vector logarithm in Sources/CBeamlineKernels/crystallography.c.

log m = 2 atanh f = 2f + 2f * s * p(s), f = (m - 1)/(m + 1), s = f^2, for m in
[sqrt(1/2), sqrt(2)], so s in [0, ((sqrt2 - 1)/(sqrt2 + 1))^2]. p is the degree-6
minimax approximation of R(s) = (atanh(sqrt s)/sqrt s - 1)/s, found by Remez
iterations in 50-digit arithmetic (mpmath). The script prints the levelled
error and the coefficients, then checks the whole logarithm, evaluated in
float64 as the kernel does (without fused multiply-adds, so a little worse),
against 50-digit logs in units in the last place.

    python3 scripts/cbc_log_coefficients.py
"""
import mpmath as mp, numpy as np
mp.mp.dps = 50
smax = ((mp.sqrt(2)-1)/(mp.sqrt(2)+1))**2
def R(s):
    if s == 0: return mp.mpf(1)/3
    r = mp.sqrt(s); return (mp.atanh(r)/r - 1)/s
N = 7
# Remez iterations on [0, smax] for relative-ish error (absolute on R is fine since R ~ 1/3)
xs = [smax*(1-mp.cos(mp.pi*(2*k+1)/(2*(N+1))))/2 for k in range(N+1)]
for it in range(8):
    # solve p(x_i) + (-1)^i E = R(x_i)
    A = mp.matrix(N+1, N+1); b = mp.matrix(N+1,1)
    for i,x in enumerate(xs):
        for j in range(N): A[i,j] = x**j
        A[i,N] = (-1)**i; b[i] = R(x)
    sol = mp.lu_solve(A,b); c=[sol[j] for j in range(N)]; E=sol[N]
    f = lambda x: sum(c[j]*x**j for j in range(N)) - R(x)
    grid = [smax*k/4000 for k in range(4001)]
    vals = [f(x) for x in grid]
    # find extrema: local maxima of |f| with sign alternation
    ext=[0]
    for k in range(1,4000):
        if (vals[k]-vals[k-1])*(vals[k+1]-vals[k]) <= 0: ext.append(k)
    ext.append(4000)
    if len(ext)==N+1: xs=[grid[k] for k in ext]
    print(it, float(abs(E)), len(ext), float(max(abs(v) for v in vals)))
print([mp.nstr(x, 20) for x in c])
coef=[float(x) for x in c]
print(coef)
# check log in float64 emulating
rng=np.random.default_rng(1)
x=np.concatenate([np.exp(rng.uniform(-30,30,300000)), 1+rng.uniform(-1e-3,1e-3,50000), rng.uniform(0.6,1.5,200000)])
bits=x.view(np.int64); e=((bits>>52)-1023).astype(float); m=((bits & 0x000FFFFFFFFFFFFF)|0x3FF0000000000000).view(np.float64)
hi=m>np.sqrt(2); m=np.where(hi,m*0.5,m); e=e+hi
f=(m-1)/(m+1); s=f*f
p=np.full_like(s,coef[-1])
for cc in reversed(coef[:-1]): p=p*s+cc
# p here = R(s) approx (starting at 1/3). log m = 2f + 2f*s*p
twof=f+f; logm=twof*s*p+twof
r=e*0.6931471805599453+(e*2.3190468138462996e-17+logm)
ref=np.array([float(mp.log(mp.mpf(v))) for v in x[:20000]])
err=np.abs(r[:20000]-ref)/np.spacing(np.abs(ref))
print("max ulp", err.max(), "mean", err.mean())
