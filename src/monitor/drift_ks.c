/*
 * Two-sample Kolmogorov-Smirnov test as scipy 1.10.1 computes it (ks_2samp, two-sided): the D
 * statistic by one merge pass, exact p-values by Hodges' lattice-path recursions and asymptotic
 * ones by kstwo.sf, the finite-n Kolmogorov distribution of scipy/stats/_ksstats.py (Simard and
 * L'Ecuyer's choice of Ruben-Gambino, Durbin-Marsaglia-Tsang-Wang, Pomeranz, Pelz-Good and the
 * Smirnov one-sided sum of cephes' kolmogorov.c).
 */
#include "util/common.h"
#include "monitor/drift_stats.h"

#include <float.h>
#include <math.h>

#define MAX_AUTO_N 10000 /* scipy's ks_2samp: auto is exact up to this sample size */
#define SCALE_EXP 128	 /* _ksstats' _E128: rescaling step against under/overflow */
#define MIN_LOG (-708)	 /* _ksstats' _MIN_LOG */
#define CEPHES_MINLOG (-7.08396418532264106224E2)
#define SMIRNOV_MAX_COMPUTE_N 1000000 /* cephes: larger n get an approximation */
#define SM_UPPER_MAX_TERMS 3
#define SM_UPPERSUM_MIN_N 10

static const double LOG_2PI = 1.8378770664093454835606594728112;
static const double SQRT_2PI = 2.5066282746310005024157652848110;

static double clip01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* ---- the one-sided Smirnov distribution (cephes smirnov) ------------------------------------ */

/*
 * Birnbaum and Tingey's terms A_v = C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v), summed from
 * v = start by step (+1 or -1) over nterms terms, as cephes sums them (it uses double-double
 * arithmetic; logs are used here). The sum can need ~n terms of similar size (for n = 5e5 and
 * a drifted window, 90% of them matter), so each term costs two log() and one exp(); log C(n, v)
 * follows by recurrence in long double. The last factor is taken from n x split exactly
 * (fma) so that 1 - x - v/n keeps its digits next to the cut v = n (1 - x).
 */
static long double smirnov_sum(long n, double x, long start, long step, long nterms)
{
	double dn = (double)n, nx_hi = dn * x, nx_lo = fma(dn, x, -nx_hi);
	int sg; /* lgammal_r, not lgammal: lgammal writes the global signgam (a data race) */
	long double lc = lgammal_r((long double)n + 1, &sg) -
			 lgammal_r((long double)start + 1, &sg) -
			 lgammal_r((long double)(n - start) + 1, &sg);
	long double sum = 0;

	for (long j = 0; j < nterms; j++) {
		long v = start + j * step;
		double b = (((double)(n - v) - nx_hi) - nx_lo) / dn, lt, t;
		int sign = b < 0 && (n - v) % 2 ? -1 : 1;

		lt = (double)lc + (double)(v - 1) * log(x + (double)v / dn) +
		     (n - v == 0 ? 0.0 : (double)(n - v) * log(fabs(b)));
		t = exp(lt);
		sum += sign * (long double)t;
		/* cephes stops once the remaining terms cannot move the sum */
		if (t != 0 && 4.0 * (double)(nterms - j) * t < DBL_EPSILON * fabs((double)sum) &&
		    j != nterms - 1)
			break;
		if (t == 0 && j > n / 2)
			break;
		/* C(n, v + 1) = C(n, v) (n - v) / (v + 1); C(n, v - 1) = C(n, v) v / (n - v + 1) */
		lc += step > 0 ? log((double)(n - v) / (double)(v + 1))
			       : log((double)v / (double)(n - v + 1));
	}
	return sum;
}

/* P(D+_n >= x): cephes' smirnov(n, x), the same special cases and the same choice of sum. */
static double smirnov_sf(long n, double x)
{
	double nx = (double)n * x, nx_lo = fma((double)n, x, -nx), alpha;
	long double sum;
	long nxfl, n1mxfl, n1mxceil, nterms, start, step;
	bool upper;

	if (!(n > 0 && x >= 0 && x <= 1))
		return NAN;
	if (n == 1)
		return 1 - x;
	if (x == 0)
		return 1;
	if (x == 1)
		return 0;
	/* floor(n x) and its remainder exactly, as cephes' modNX: n x = nx + nx_lo exactly */
	nxfl = (long)floor(nx);
	alpha = (nx - (double)nxfl) + nx_lo;
	if (alpha < 0) {
		nxfl--;
		alpha += 1;
	}
	if (alpha >= 1) {
		nxfl++;
		alpha = 0;
	}
	n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
	n1mxceil = n - nxfl;
	if (alpha == 0) {
		n1mxfl -= 1;
		n1mxceil += 1;
	}
	if (nxfl == 0 || (nxfl == 1 && alpha == 0))
		return 1 - x * pow(1 + x, (double)(n - 1));
	if (-2 * (double)n * x * x < CEPHES_MINLOG)
		return 0;
	if (nxfl >= n - 1)
		return pow(1 - x, (double)n);
	if (n > SMIRNOV_MAX_COMPUTE_N) {
		double logp = -pow(6.0 * (double)n * x + 1, 2) / 18.0 / (double)n;

		return logp < -M_LN2 ? exp(logp) : 1 + expm1(logp);
	}
	nterms = n - n1mxceil + 1;
	upper =
	    (nterms <= 1 && x < 0.5) ||
	    (n >= SM_UPPERSUM_MIN_N && nterms <= SM_UPPER_MAX_TERMS && x <= 0.5 / sqrt((double)n));
	if (upper) {
		start = n;
		step = -1;
	} else {
		start = 0;
		step = 1;
		nterms = n1mxfl + 1;
	}
	sum = smirnov_sum(n, x, start, step, nterms);
	sum *= x;
	return clip01(upper ? (double)(1 - sum) : (double)sum);
}

/* ---- Durbin's matrix (Marsaglia, Tsang and Wang): P(D_n < d) for small n d^2 --------------- */

static void matmul(double *out, const double *a, const double *b, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < m; j++) {
			double s = 0;

			for (size_t k = 0; k < m; k++)
				s += a[i * m + k] * b[k * m + j];
			out[i * m + j] = s;
		}
	}
}

static double kolmogn_dmtw(long n, double d)
{
	double nd = (double)n * d, h, fac = 1.0, tt;
	size_t k, m;
	double *H, *P, *T, *v, *w;
	long nn = n, expnt = 0, hexpnt = 0;
	long double p;

	if (d >= 1.0)
		return 1.0;
	if (nd <= 0.5)
		return 0.0;
	k = (size_t)ceil(nd);
	h = (double)k - nd;
	m = 2 * k - 1;
	H = xcalloc(m * m, sizeof(double));
	P = xcalloc(m * m, sizeof(double));
	T = xcalloc(m * m, sizeof(double));
	v = xmalloc(m * sizeof(double));
	w = xmalloc(m * sizeof(double));
	for (size_t j = 1; j <= m; j++) {
		v[j - 1] = 1.0 - pow(h, (double)j);
		w[j - 1] = fac;
		fac /= (double)j;
		v[j - 1] *= fac;
	}
	tt = pow(fmax(2 * h - 1.0, 0), (double)m) - 2 * pow(h, (double)m);
	v[m - 1] = (1.0 + tt) * fac;
	for (size_t i = 1; i < m; i++)
		for (size_t r = i - 1; r < m; r++)
			H[r * m + i] = w[r - (i - 1)];
	for (size_t r = 0; r < m; r++)
		H[r * m] = v[r];
	for (size_t c = 0; c < m; c++)
		H[(m - 1) * m + c] = v[m - 1 - c];
	for (size_t i = 0; i < m; i++)
		P[i * m + i] = 1;
	while (nn > 0) {
		if (nn % 2) {
			matmul(T, P, H, m);
			memcpy(P, T, m * m * sizeof(double));
			expnt += hexpnt;
		}
		matmul(T, H, H, m);
		memcpy(H, T, m * m * sizeof(double));
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + k - 1]) > ldexp(1, SCALE_EXP)) {
			for (size_t i = 0; i < m * m; i++)
				H[i] = ldexp(H[i], -SCALE_EXP);
			hexpnt += SCALE_EXP;
		}
		nn /= 2;
	}
	p = P[(k - 1) * m + k - 1];
	for (long i = 1; i <= n; i++) {
		p = (long double)i * p / (long double)n;
		if (fabsl(p) < ldexpl(1, -SCALE_EXP)) {
			p = ldexpl(p, SCALE_EXP);
			expnt -= SCALE_EXP;
		}
	}
	if (expnt != 0)
		p = ldexpl(p, (int)expnt);
	free(H);
	free(P);
	free(T);
	free(v);
	free(w);
	return clip01((double)p);
}

/* ---- Pomeranz's recursion: P(D_n < d) for n <= 140 --------------------------------------- */

static void pomeranz_j1j2(long i, long n, long ll, long ceilf, long roundf, long *j1, long *j2)
{
	long a, b;

	if (i == 0) {
		a = -ll - ceilf - 1;
		b = ll + ceilf - 1;
	} else {
		long half = (i + 1) / 2;

		if ((i + 1) % 2 == 0) {
			if (half == n + 1) {
				a = n - ll - ceilf - 1;
				b = n + ll + ceilf - 1;
			} else {
				a = half - 1 - ll - roundf - 1;
				b = half + ll - 1 + ceilf - 1;
			}
		} else {
			a = half - 1 - ll - 1;
			b = half + ll + roundf - 1;
		}
	}
	*j1 = a + 2 > 0 ? a + 2 : 0;
	*j2 = b < n ? b : n;
}

static double kolmogn_pomeranz(long n, double x)
{
	double t = (double)n * x, f, g;
	long ll = (long)floor(t), ceilf, roundf, npw, j1, j2, v0s = 0, v1s = 0, expnt = 0;
	double *gp, *g2p, *g12p, *V0, *V1, *tmp;
	long double ans;

	f = t - (double)ll;
	g = fmin(f, 1.0 - f);
	ceilf = f > 0;
	roundf = f > 0.5;
	npw = 2 * (ll + 1);
	gp = xmalloc((size_t)npw * sizeof(double));
	g2p = xmalloc((size_t)npw * sizeof(double));
	g12p = xmalloc((size_t)npw * sizeof(double));
	V0 = xcalloc((size_t)npw, sizeof(double));
	V1 = xcalloc((size_t)npw, sizeof(double));
	gp[0] = g2p[0] = g12p[0] = 1.0;
	for (long m = 1; m < npw; m++) {
		gp[m] = gp[m - 1] * (g / (double)n) / (double)m;
		g2p[m] = g2p[m - 1] * (2 * g / (double)n) / (double)m;
		g12p[m] = g12p[m - 1] * ((1 - 2 * g) / (double)n) / (double)m;
	}
	V1[0] = 1;
	pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
	for (long i = 1; i < 2 * n + 2; i++) {
		long k1 = j1, s, len_a, ln2, cstart, clen, tmps;
		const double *pw;
		double vmax = 0;

		tmp = V0;
		V0 = V1;
		V1 = tmp;
		tmps = v0s;
		v0s = v1s;
		v1s = tmps;
		memset(V1, 0, (size_t)npw * sizeof(double));
		pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
		pw = i == 1 || i == 2 * n + 1 ? gp : i % 2 ? g2p : g12p;
		ln2 = j2 - k1 + 1;
		if (ln2 <= 0)
			continue;
		/* np.convolve(V0[s:s + ln2], pw[:ln2]) entries cstart .. cstart + clen - 1 */
		s = k1 - v0s;
		len_a = s + ln2 <= npw ? ln2 : npw - s;
		cstart = j1 - k1;
		clen = j2 - j1 + 1;
		for (long c = 0; c < clen; c++) {
			long kk = cstart + c;
			double sum = 0;

			for (long a = 0; a < len_a; a++)
				if (kk - a >= 0 && kk - a < ln2 && kk - a < npw)
					sum += V0[s + a] * pw[kk - a];
			V1[c] = sum;
			if (sum > vmax)
				vmax = sum;
		}
		if (vmax > 0 && vmax < ldexp(1, -SCALE_EXP)) {
			for (long c = 0; c < npw; c++)
				V1[c] = ldexp(V1[c], SCALE_EXP);
			expnt -= SCALE_EXP;
		}
		v1s = v0s + j1 - k1;
	}
	ans = V1[n - v1s];
	for (long m = 1; m <= n; m++) {
		if (fabsl(ans) > ldexpl(1, SCALE_EXP)) {
			ans = ldexpl(ans, -SCALE_EXP);
			expnt += SCALE_EXP;
		}
		ans *= m;
	}
	if (expnt != 0)
		ans = ldexpl(ans, (int)expnt);
	free(gp);
	free(g2p);
	free(g12p);
	free(V0);
	free(V1);
	return clip01((double)ans);
}

/* ---- Pelz and Good's asymptotic series: P(D_n <= x) for large n ------------------------------ */

static double kolmogn_pelz_good(double n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	double z, z2, z3, z4, z6, qlog, q, k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d;
	double K[4] = { 0, 0, 0, 0 }, k2extra = 0, k3extra = 0, sqrt3z;
	long maxk;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sqrt(n) * x;
	z2 = z * z;
	z3 = z2 * z;
	z4 = z2 * z2;
	z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < MIN_LOG)
		return 0.0;
	q = exp(qlog);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * pow(z, 8);
	maxk = (long)ceil(16 * z / M_PI);
	for (long k = maxk; k > 0; k--) {
		double m = (double)(2 * k - 1), m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, (double)(8 * k));
		double c[4] = { 1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
				k3a + k3b * m2 + k3c * m4 + k3d * m6 };

		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	K[0] *= q * SQRT_2PI / z;
	K[1] *= q * SQRT_2PI / (6 * z4);
	K[2] *= q * SQRT_2PI / (72 * pow(z, 7));
	K[3] *= q * SQRT_2PI / (6480 * pow(z, 10));
	q = exp(-pi2 / 2 / z2);
	sqrt3z = sqrt(3.0) * z;
	for (long k = maxk; k > 0; k--) {
		double k2 = (double)(k * k), qk = pow(q, k2), kpi = M_PI * (double)k;

		k2extra += k2 * qk;
		k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
	}
	K[2] += k2extra * pi2 * SQRT_2PI / (-36 * z3);
	K[3] += k3extra * pi2 * SQRT_2PI / (216 * z6);
	return K[0] + K[1] / sqrt(n) + K[2] / n + K[3] / (n * sqrt(n));
}

/* ---- kstwo.sf ---------------------------------------------------------------------------------- */

static double log_nfact_div_n_pow_n(double n)
{
	static const double c[] = { -2.955065359477124183e-2,  6.4102564102564102564e-3,
				    -1.9175269175269175269e-3, 8.4175084175084175084e-4,
				    -5.952380952380952381e-4,  7.9365079365079365079e-4,
				    -2.7777777777777777778e-3, 8.3333333333333333333e-2 };
	double rn = 1.0 / n, y = 0;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		y = y * (rn / n) + c[i];
	return log(n) / 2 - n + LOG_2PI / 2 + rn * y;
}

double drift_kstwo_sf(double d, double n)
{
	double t, nx2;
	long ni;

	if (isnan(d) || isnan(n) || n < 1 || n != floor(n))
		return NAN;
	/* rv_continuous.sf: 1 at or below the support's lower end 1/(2n), 0 from 1 up */
	if (d <= 0.5 / n)
		return 1.0;
	if (d >= 1.0)
		return 0.0;
	ni = n < (double)LONG_MAX ? (long)n : LONG_MAX;
	t = n * d;
	if (t <= 1.0) { /* Ruben-Gambino */
		double prob;

		if (n <= 140) {
			prob = 1.0;
			for (long i = 1; i <= ni; i++)
				prob *= (double)i * (1.0 / n) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_div_n_pow_n(n) + n * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= n - 1)
		return clip01(2 * pow(1.0 - d, n));
	if (d >= 0.5)
		return clip01(2 * smirnov_sf(ni, d));
	nx2 = t * d;
	if (n <= 140) {
		if (nx2 <= 0.754693)
			return clip01(1.0 - kolmogn_dmtw(ni, d));
		if (nx2 <= 4)
			return clip01(1.0 - kolmogn_pomeranz(ni, d));
		return clip01(2 * smirnov_sf(ni, d));
	}
	if (nx2 >= 370.0)
		return 0.0;
	if (nx2 >= 2.2)
		return clip01(2 * smirnov_sf(ni, d));
	if (n <= 100000 && n * pow(d, 1.5) <= 1.4)
		return clip01(1.0 - kolmogn_dmtw(ni, d));
	return clip01(1.0 - kolmogn_pelz_good(n, d));
}

/* ---- exact two-sample p-values -------------------------------------------------------------- */

/* scipy's _compute_prob_outside_square: P(D_{n,n} >= h/n), Horner-like to avoid cancellation. */
static double prob_outside_square(uint64_t n, uint64_t h)
{
	double P = 0.0;

	for (int64_t k = (int64_t)(n / h); k >= 0; k--) {
		double p1 = 1.0;

		for (uint64_t j = 0; j < h; j++)
			p1 = ((double)((int64_t)n - k * (int64_t)h - (int64_t)j) * p1) /
			     (double)((int64_t)n + k * (int64_t)h + (int64_t)j + 1);
		P = p1 * (1.0 - P);
	}
	return 2 * P;
}

/*
 * scipy's _compute_outer_prob_inside_method (Hodges' inside method recast by Viehmann to give
 * 1 - p directly): the share of lattice paths from (0, 0) to (m, n) that leave the band
 * |x/m - y/n| < h / lcm(m, n). One sliding column of the path counts.
 */
static double outer_prob_inside(int64_t m, int64_t n, int64_t g, int64_t h)
{
	int64_t mg, ng, minj, maxj, curlen, lenA;
	double *A, res;

	if (m < n) {
		int64_t t = m;

		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	minj = 0;
	maxj = (int64_t)ceil((double)h / (double)mg);
	if (maxj > n + 1)
		maxj = n + 1;
	curlen = maxj - minj;
	lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	A = xmalloc((size_t)lenA * sizeof(double));
	for (int64_t j = 0; j < lenA; j++)
		A[j] = j < maxj ? 0.0 : 1.0;
	for (int64_t i = 1; i <= m; i++) {
		int64_t lastminj = minj, lastlen = curlen;
		double val;

		minj = (int64_t)floor((double)(ng * i - h) / (double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = (int64_t)ceil((double)(ng * i + h) / (double)mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			return 1.0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (int64_t jj = 0; jj < maxj - minj; jj++) {
			int64_t j = jj + minj;

			val = (A[jj + minj - lastminj] * (double)i + val * (double)j) /
			      (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		for (int64_t t = curlen;
		     lastlen > curlen && t < curlen + (lastlen - curlen) && t < lenA; t++)
			A[t] = 1;
	}
	res = A[maxj - minj - 1];
	free(A);
	return res;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* scipy's _attempt_exact_2kssamp (two-sided): false where the recursion leaves [0, 1]. */
static bool attempt_exact(uint64_t n1, uint64_t n2, uint64_t g, double *d, double *p)
{
	uint64_t lcm = (n1 / g) * n2;
	double hd = nearbyint(*d * (double)lcm), prob;
	uint64_t h = (uint64_t)hd;

	*d = hd / (double)lcm;
	if (h == 0) {
		*p = 1.0;
		return true;
	}
	if (n1 == n2)
		prob = prob_outside_square(n1, h);
	else
		prob = outer_prob_inside((int64_t)n1, (int64_t)n2, (int64_t)g, (int64_t)h);
	if (!(prob >= 0 && prob <= 1))
		return false;
	*p = prob;
	return true;
}

/*
 * D by one merge pass: after all values equal to v are consumed on both sides, compare the two
 * ECDFs there (scipy evaluates searchsorted(side='right') at every pooled value). The
 * difference is kept as the integer i n2 - j n1 and D recomputed as scipy does, i/n1 - j/n2.
 */
static double ks_statistic(const double *ref, size_t n1, const double *cur, size_t n2)
{
	size_t i = 0, j = 0, imax = 0, jmax = 0, imin = 0, jmin = 0;
	int64_t dmax = 0, dmin = 0;
	double maxs, mins;

	while (i < n1 && j < n2) {
		double v = ref[i] <= cur[j] ? ref[i] : cur[j];
		int64_t diff;

		while (i < n1 && ref[i] == v)
			i++;
		while (j < n2 && cur[j] == v)
			j++;
		diff = (int64_t)i * (int64_t)n2 - (int64_t)j * (int64_t)n1;
		if (diff > dmax) {
			dmax = diff;
			imax = i;
			jmax = j;
		} else if (diff < dmin) {
			dmin = diff;
			imin = i;
			jmin = j;
		}
	}
	maxs = (double)imax / (double)n1 - (double)jmax / (double)n2;
	mins = -((double)imin / (double)n1 - (double)jmin / (double)n2);
	return mins > maxs ? mins : maxs;
}

int drift_ks_2samp(const double *ref, size_t n1, const double *cur, size_t n2, enum ks_mode mode,
		   struct ks_result *out, struct error *err)
{
	double d, p = NAN;
	uint64_t g;

	if (!n1 || !n2)
		return error_set(err, ERR_INVALID, "ks test: %s sample is empty",
				 n1 ? "current" : "reference");
	d = ks_statistic(ref, n1, cur, n2);
	g = gcd_u64(n1, n2);
	if (mode == KS_AUTO)
		mode = (n1 > n2 ? n1 : n2) <= MAX_AUTO_N ? KS_EXACT : KS_ASYMP;
	else if (mode == KS_EXACT && (double)(n1 / g) >= (double)INT32_MAX / (double)(n2 / g))
		mode = KS_ASYMP; /* scipy: lcm(n1, n2) too big for the exact recursion */
	if (mode == KS_EXACT && !attempt_exact(n1, n2, g, &d, &p))
		mode = KS_ASYMP;
	if (mode == KS_ASYMP) {
		double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);

		p = drift_kstwo_sf(d, nearbyint(m * n / (m + n)));
	}
	out->statistic = d;
	out->pvalue = isnan(p) ? p : clip01(p);
	out->mode = mode;
	return 0;
}
