# ---------------------------------------------------------------------------------------------
# Runtime: amlz's random stream, libm calls and reductions, as SEMANTICS.md §2 and §5 define them.
# ---------------------------------------------------------------------------------------------

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & _MASK


class Rng:
    """amlz's generator (SEMANTICS.md §5): xoshiro256++ seeded by SplitMix64."""

    def __init__(self, seed):
        sm = seed & _MASK
        state = []
        for _ in range(4):
            sm = (sm + _GOLDEN) & _MASK
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            state.append(z ^ (z >> 31))
        self.state = state

    def next_u64(self):
        s0, s1, s2, s3 = self.state
        result = (_rotl((s0 + s3) & _MASK, 23) + s0) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.state = [s0, s1, s2, s3]
        return result

    def uniform01(self):
        """Uniform in [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)

    def below(self, n):
        """A uniform integer in 0..n by Lemire's multiply-shift, one draw."""
        return (self.next_u64() * n) >> 64

    def shuffle(self, items):
        """Fisher-Yates from the last position down."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def standard_normal(self):
        """Box-Muller, two uniforms per draw, the sine half dropped."""
        u1 = self.uniform01()
        u2 = self.uniform01()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(math.tau * u2)

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.uniform01()

    def gaussian(self, mean, std):
        return mean + std * self.standard_normal()

    def uniform_array(self, lo, hi, n):
        return np.array([self.uniform(lo, hi) for _ in range(n)], dtype=np.float64)

    def gaussian_array(self, mean, std, n):
        return np.array([self.gaussian(mean, std) for _ in range(n)], dtype=np.float64)


def task_stream_seed(seed, task_index):
    """The seed of task `task_index`'s random stream in an evaluation seeded by `seed`."""
    return (seed ^ ((task_index + 1) * _GOLDEN)) & _MASK


# libm, as amlz calls it: the C library's functions (Python's math module calls them too), with
# IEEE results where Python would raise instead.
def _sin(x):
    try:
        return math.sin(x)
    except ValueError:
        return math.nan


def _cos(x):
    try:
        return math.cos(x)
    except ValueError:
        return math.nan


def _tan(x):
    try:
        return math.tan(x)
    except ValueError:
        return math.nan


def _asin(x):
    try:
        return math.asin(x)
    except ValueError:
        return math.nan


def _acos(x):
    try:
        return math.acos(x)
    except ValueError:
        return math.nan


def _atan(x):
    return math.atan(x)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x):
    try:
        return math.log(x)
    except ValueError:
        return -math.inf if x == 0.0 else math.nan


def _sigmoid(x):
    return 1.0 / (1.0 + _exp(-x))


def _f32(x):
    """A float datum: `x` rounded to single precision, widened back."""
    return float(np.float32(x))


def _index(n, d):
    """The coordinate an index datum selects: trunc(f32(F) * d), clamped to 0..F-1."""
    p = np.float32(n) * np.float32(d)
    if not p > 0.0:
        return 0
    if p >= n:
        return n - 1
    return int(p)


# Reductions start from the first term and add the others in index order (not NumPy's pairwise
# sums): cumulative sums are computed exactly so.
def _sum(x):
    return np.cumsum(x)[-1]


def _dot(a, b):
    return np.cumsum(a * b)[-1]


def _std(x):
    n = x.shape[0]
    mean = _sum(x) / n
    return np.sqrt(_sum(x * x) / n - mean * mean)


def _row_sums(x):
    return np.cumsum(x, axis=1)[:, -1]


def _row_std(x):
    n = x.shape[1]
    mean = _row_sums(x) / n
    return np.sqrt(_row_sums(x * x) / n - mean * mean)


def _matvec(a, b):
    return np.cumsum(a * b[None, :], axis=1)[:, -1]


def _matmul(a, b):
    return np.cumsum(a[:, :, None] * b[None, :, :], axis=1)[:, -1, :]


# ---------------------------------------------------------------------------------------------
# Evaluation on one task (SEMANTICS.md §4).
# ---------------------------------------------------------------------------------------------


def _rms_fitness(loss, n):
    rms = np.sqrt(np.float64(loss) / np.float64(n))
    if not np.isfinite(rms):
        return 0.0
    return float(1.0 - (2.0 / math.pi) * _atan(rms))


def _accuracy_fitness(wrong, n):
    if n == 0:
        return 0.0
    return 1.0 - wrong / n


def csv_epoch_orders(data_seed, num_train, num_train_epochs):
    """The visiting orders of epochs 1..E-1 of a task whose data stream draws only them (a `csv`
    or `fixed` task of amlz): fresh shuffles of 0..num_train from Rng(data_seed)."""
    rng = Rng(data_seed)
    orders = []
    for _ in range(1, max(num_train_epochs, 1)):
        order = list(range(num_train))
        rng.shuffle(order)
        orders.append(order)
    return orders


def evaluate(train_x, train_y, valid_x, valid_y, eval_type="rms_error", seed=0,
             num_train_epochs=1, max_abs_error=100.0, task_index=0, data_seed=None,
             epoch_orders=None):
    """The fitness of the algorithm on one task, exactly as amlz computes it.

    train_x, valid_x: examples by features; train_y, valid_y: labels. eval_type: "rms_error"
    or "accuracy". seed: the evaluation seed (`amlz eval --seed`); the random ops of task
    `task_index` (from 0) of a collection draw from Rng(task_stream_seed(seed, task_index)).
    Epochs after the first visit the train examples in `epoch_orders[e - 1]`, by default those
    amlz draws for a csv task from `data_seed` (default 2000 + task_index). Training stops at an
    error above max_abs_error (fitness 0 in the first epoch, else the best so far).
    """
    train_x = np.asarray(train_x, dtype=np.float64)
    valid_x = np.asarray(valid_x, dtype=np.float64)
    train_y = np.asarray(train_y, dtype=np.float64)
    valid_y = np.asarray(valid_y, dtype=np.float64)
    if eval_type not in ("rms_error", "accuracy"):
        raise ValueError("eval_type must be 'rms_error' or 'accuracy'")
    n_train, n_valid = train_y.shape[0], valid_y.shape[0]
    f = train_x.shape[1]
    if epoch_orders is None:
        if data_seed is None:
            data_seed = 2000 + task_index
        epoch_orders = csv_epoch_orders(data_seed, n_train, num_train_epochs)
    accuracy = eval_type == "accuracy"
    rng = Rng(task_stream_seed(seed, task_index))
    s = np.zeros(S)
    v = np.zeros((V, f))
    m = np.zeros((M, f, f))
    with np.errstate(all="ignore"):
        setup(s, v, m, rng)
        best = 0.0
        for epoch in range(num_train_epochs):
            order = range(n_train) if epoch == 0 else epoch_orders[epoch - 1]
            for i in order:
                v[0] = train_x[i]
                s[0] = 0.0
                predict(s, v, m, rng)
                if accuracy:
                    s[1] = _sigmoid(s[1])
                label = train_y[i]
                err = abs(label - s[1])
                if math.isnan(err) or err > max_abs_error:
                    return 0.0 if epoch == 0 else float(best)
                v[0] = train_x[i]
                s[0] = label
                learn(s, v, m, rng)
            fitness = _validate(s, v, m, rng, valid_x, valid_y, n_valid, accuracy,
                                max_abs_error)
            if fitness > best:
                best = fitness
        return float(best)


def _validate(s, v, m, rng, valid_x, valid_y, n_valid, accuracy, max_abs_error):
    loss = np.float64(0.0)
    wrong = 0
    for i in range(n_valid):
        v[0] = valid_x[i]
        s[0] = 0.0
        predict(s, v, m, rng)
        label = valid_y[i]
        if accuracy:
            p = _sigmoid(s[1])
            if p > 1.0 or p < 0.0:
                return 0.0
            if (label > 0.5) != (p > 0.5):
                wrong += 1
        else:
            e = label - s[1]
            if math.isnan(abs(e)) or abs(e) > max_abs_error:
                return 0.0
            loss += e * e
    return _accuracy_fitness(wrong, n_valid) if accuracy else _rms_fitness(loss, n_valid)


def read_csv(path):
    """A CSV file as amlz reads a `csv` task: a header row, then the features and the label last."""
    import csv
    xs, ys = [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(field.strip() for field in row)]
    for row in rows[1:]:
        values = [float(field.strip()) for field in row]
        xs.append(values[:-1])
        ys.append(values[-1])
    return np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)


def _main(argv):
    import argparse
    parser = argparse.ArgumentParser(description="The fitness of this algorithm on a csv task.")
    parser.add_argument("train_csv")
    parser.add_argument("valid_csv")
    parser.add_argument("--eval-type", default="rms_error", choices=["rms_error", "accuracy"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-abs-error", type=float, default=100.0)
    args = parser.parse_args(argv)
    train_x, train_y = read_csv(args.train_csv)
    valid_x, valid_y = read_csv(args.valid_csv)
    print(evaluate(train_x, train_y, valid_x, valid_y, args.eval_type, args.seed,
                   num_train_epochs=args.epochs, max_abs_error=args.max_abs_error))


if __name__ == "__main__":
    import sys
    _main(sys.argv[1:])
