//! The `[memory]`, `[ops]` and `[sizes]` tables, checked into an [`AlgorithmSpace`].

use super::ConfigError;
use super::raw::{Given, RawMemory, RawOpList, RawOps, RawSize, RawSizes};
use super::report::Reporter;
use crate::search::{AlgorithmSpace, FunctionSpace, InitialPopulation};
use amlz_ir::{ALL_OPS, Bank, ComponentFunction, MAX_ADDRESSES, MemoryCounts, Op};
use toml::Spanned;

/// Checks `[memory]`: each count within its bank's minimum (the fixed roles) and
/// [`MAX_ADDRESSES`].
pub(super) fn memory(raw: &RawMemory, c: &Reporter) -> Result<MemoryCounts, ConfigError> {
    let mut counts = MemoryCounts::MINIMUM;
    for (key, bank, value, min, why) in [
        (
            "scalars",
            Bank::Scalar,
            &raw.scalars,
            2,
            " (s0 holds the label, s1 the prediction)",
        ),
        (
            "vectors",
            Bank::Vector,
            &raw.vectors,
            1,
            " (v0 holds the features)",
        ),
        ("matrices", Bank::Matrix, &raw.matrices, 0, ""),
    ] {
        let v = *value.get_ref();
        if v < min || v > MAX_ADDRESSES as i64 {
            let problem = format!("{v} is not allowed (allowed: {min} to {MAX_ADDRESSES}){why}");
            return Err(c.err(Some(value.span()), "memory", key, problem));
        }
        *counts.count_mut(bank) = v as usize;
    }
    Ok(counts)
}

/// Checks `[ops]` and `[sizes]` function by function (Setup's ops, Setup's size, then Predict's,
/// ...), against the memory `counts` and the `initial` population that must fill them.
pub(super) fn space(
    ops: &RawOps,
    sizes: &RawSizes,
    counts: MemoryCounts,
    initial: InitialPopulation,
    c: &Reporter,
) -> Result<AlgorithmSpace, ConfigError> {
    let raw_ops = [&ops.setup, &ops.predict, &ops.learn];
    let raw_sizes = [&sizes.setup, &sizes.predict, &sizes.learn];
    let mut functions = Vec::new();
    for f in ComponentFunction::ALL {
        let key = f.key();
        let ops = op_list(key, raw_ops[f as usize], counts, c)?;
        let [init, min, max] = size(key, raw_sizes[f as usize], c)?;
        if ops.is_empty() && init > 0 && initial == InitialPopulation::Random {
            let problem = format!(
                "the op list is empty but sizes.{key} is {init} and the initial population is random: list ops to draw from (allowed: {}), or set the size to 0",
                all_op_names()
            );
            return Err(c.err(Some(raw_ops[f as usize].span()), "ops", key, problem));
        }
        functions.push(FunctionSpace {
            ops,
            init_size: init,
            min_size: min,
            max_size: max,
        });
    }
    Ok(AlgorithmSpace {
        functions: functions.try_into().expect("three functions"),
        counts,
    })
}

/// Checks one op list of `[ops]`: known names, matrices available where used. Repeated ops are
/// kept once.
fn op_list(
    key: &str,
    list: &RawOpList,
    counts: MemoryCounts,
    c: &Reporter,
) -> Result<Vec<Op>, ConfigError> {
    let mut ops = Vec::new();
    for name in list.get_ref() {
        let at = Some(name.span());
        let op = Op::from_name(name.get_ref()).ok_or_else(|| {
            let problem = format!(
                "unknown op \"{}\" (allowed: {})",
                name.get_ref(),
                all_op_names()
            );
            c.err(at.clone(), "ops", key, problem)
        })?;
        if op.uses_matrices() && counts.matrices == 0 {
            let problem = format!("{} needs matrices but memory.matrices is 0", op.name());
            return Err(c.err(at, "ops", key, problem));
        }
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    Ok(ops)
}

/// Checks one size of `[sizes]`: `[init, min, max]`, each 0 to 10000, with `min <= init <= max`.
/// A problem names the line of the bound at fault.
fn size(key: &str, raw: &Spanned<RawSize>, c: &Reporter) -> Result<[usize; 3], ConfigError> {
    let [init, min, max] = match raw.get_ref() {
        RawSize::Fixed(n) => [*n; 3].map(|value| Given {
            value,
            span: Some(raw.span()),
        }),
        RawSize::Range(r) => [&r.init, &r.min, &r.max].map(Given::of),
    };
    for (what, v) in [("init", &init), ("min", &min), ("max", &max)] {
        if !(0..=10_000).contains(&v.value) {
            let problem = format!(
                "{what} size {} is not allowed (allowed: 0 to 10000)",
                v.value
            );
            return Err(c.err(v.span.clone(), "sizes", key, problem));
        }
    }
    let (i, lo, hi) = (init.value, min.value, max.value);
    if lo > hi {
        let problem = format!("min size {lo} is larger than max size {hi}");
        return Err(c.err(min.span, "sizes", key, problem));
    }
    if i < lo || i > hi {
        let problem = format!("init size {i} is outside min..max ({lo}..{hi})");
        return Err(c.err(init.span, "sizes", key, problem));
    }
    Ok([i, lo, hi].map(|v| v as usize))
}

/// Every op name, for "allowed:" lists.
fn all_op_names() -> String {
    ALL_OPS
        .iter()
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(", ")
}
