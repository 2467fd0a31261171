//! Hurdles (So et al., 2019; used by AutoML-Zero): a cheap early evaluation of every candidate
//! that FEC did not answer, and a bar it must clear to earn the full evaluation.
//!
//! The early evaluation trains on the first `train_examples` examples of each search task's
//! first epoch and validates on all of them, with the same random streams as the full
//! evaluation. The bar is the `percentile`-th percentile of the last `window` early fitnesses; it
//! stands once the window is full, so the first `window` candidates are all evaluated in full. A
//! candidate below the bar keeps its early fitness: it stays in the population, but weaker than
//! it would have been, and the search moves on without paying for its full training.

use std::collections::VecDeque;

/// The `[hurdle]` table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HurdleSettings {
    /// Train examples per task of the early evaluation.
    pub train_examples: usize,
    /// The bar's percentile of recent early fitnesses, in `(0, 100]`.
    pub percentile: f64,
    /// How many recent early fitnesses the bar is taken over.
    pub window: usize,
}

/// The bar and the early fitnesses it is taken over.
#[derive(Clone, Debug)]
pub struct Hurdle {
    settings: HurdleSettings,
    /// Early fitnesses in arrival order, oldest first.
    recent: VecDeque<f64>,
    /// The same, sorted by [`f64::total_cmp`], for the percentile.
    sorted: Vec<f64>,
}

impl Hurdle {
    /// A hurdle with no early fitnesses yet.
    pub fn new(settings: HurdleSettings) -> Hurdle {
        Hurdle {
            settings,
            recent: VecDeque::with_capacity(settings.window),
            sorted: Vec::with_capacity(settings.window),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> HurdleSettings {
        self.settings
    }

    /// The bar now: `None` until the window is full (always, for a window of 0).
    pub fn bar(&self) -> Option<f64> {
        if self.sorted.is_empty() || self.sorted.len() < self.settings.window {
            return None;
        }
        let n = self.sorted.len();
        let rank = (self.settings.percentile / 100.0 * n as f64).ceil() as usize;
        Some(self.sorted[rank.clamp(1, n) - 1])
    }

    /// Whether a candidate with early fitness `early` clears the bar as it stands (always while
    /// there is none; never for NaN), then adds `early` to the window.
    pub fn clears(&mut self, early: f64) -> bool {
        let clears = self.bar().is_none_or(|bar| early >= bar);
        self.push(early);
        clears
    }

    /// Adds `early` to the window, dropping the oldest once it is full.
    fn push(&mut self, early: f64) {
        if self.settings.window == 0 {
            return;
        }
        if self.recent.len() == self.settings.window
            && let Some(old) = self.recent.pop_front()
        {
            let at = self.position(old);
            self.sorted.remove(at);
        }
        self.recent.push_back(early);
        let at = self.position(early);
        self.sorted.insert(at, early);
    }

    /// Where `value` is in `sorted`, or would go.
    fn position(&self, value: f64) -> usize {
        self.sorted.partition_point(|x| x.total_cmp(&value).is_lt())
    }

    /// The window in arrival order, as bits (a checkpoint's exact record of it).
    pub fn snapshot(&self) -> Vec<u64> {
        self.recent.iter().map(|x| x.to_bits()).collect()
    }

    /// The hurdle with the window of a [`snapshot`](Hurdle::snapshot).
    pub fn restore(&mut self, bits: &[u64]) {
        *self = Hurdle::new(self.settings);
        for &b in bits {
            self.push(f64::from_bits(b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hurdle(window: usize) -> Hurdle {
        Hurdle::new(HurdleSettings {
            train_examples: 10,
            percentile: 75.0,
            window,
        })
    }

    #[test]
    fn everything_clears_until_the_window_is_full() {
        let mut h = hurdle(4);
        for x in [0.9, 0.1, 0.2, 0.3] {
            assert!(h.clears(x));
        }
        assert_eq!(h.bar(), Some(0.3), "75th percentile of 0.1, 0.2, 0.3, 0.9");
        assert!(!h.clears(0.25));
        assert!(h.clears(0.3));
    }

    #[test]
    fn the_bar_follows_the_last_window() {
        let mut h = hurdle(4);
        for x in [0.9, 0.8, 0.7, 0.6, 0.1, 0.1, 0.1] {
            h.clears(x);
        }
        // The window is 0.6, 0.1, 0.1, 0.1: nearest rank 3 of 4.
        assert_eq!(h.bar(), Some(0.1));
        h.clears(0.1);
        assert_eq!(h.bar(), Some(0.1));
    }

    #[test]
    fn nan_never_clears_a_standing_bar() {
        let mut h = hurdle(2);
        h.clears(0.5);
        h.clears(0.5);
        assert!(!h.clears(f64::NAN));
    }

    #[test]
    fn restore_gives_back_the_same_bar() {
        let mut h = hurdle(3);
        for x in [0.4, 0.2, 0.9, 0.5, 0.3] {
            h.clears(x);
        }
        let mut again = hurdle(3);
        again.restore(&h.snapshot());
        assert_eq!(again.bar(), h.bar());
        assert_eq!(again.snapshot(), h.snapshot());
    }
}
