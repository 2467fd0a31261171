//! The fitness formulas of SEMANTICS.md §4, shared by every executor so that they cannot drift.

use amlz_ir::kernels;

/// RMS_ERROR fitness from the summed squared error over `n` examples:
/// `1 - (2/π) atan(sqrt(loss / n))`, 0.0 when the root is NaN or infinite.
pub fn rms_fitness(loss: f64, n: usize) -> f64 {
    let rms = (loss / n as f64).sqrt();
    if !rms.is_finite() {
        return 0.0;
    }
    1.0 - (2.0 / std::f64::consts::PI) * kernels::atan(rms)
}

/// ACCURACY fitness: `1 - wrong / n`.
pub fn accuracy_fitness(wrong: usize, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    1.0 - wrong as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_fitness_maps_zero_error_to_one_and_nan_to_zero() {
        assert_eq!(rms_fitness(0.0, 10), 1.0);
        assert_eq!(rms_fitness(f64::NAN, 10), 0.0);
        assert_eq!(rms_fitness(f64::INFINITY, 10), 0.0);
        // rms 1 → 1 - (2/π)(π/4) = 0.5
        assert!((rms_fitness(10.0, 10) - 0.5).abs() < 1e-15);
    }
}
