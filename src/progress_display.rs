//! What `amlz search` shows while it runs: on a terminal a live line (indicatif) with
//! individuals, individuals/s, best and mean fitness, the FEC and compiled-code hit rates,
//! elapsed and remaining time; elsewhere plain log lines, one per report. `--quiet` shows
//! nothing, `--verbose` adds one line per island and each new best.

use crate::experiment::{Event, ExperimentRecord};
use crate::search::{Progress, SearchCounters};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How much `amlz search` says on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing while running (`--quiet`).
    Quiet,
    /// Progress and each experiment's end.
    Normal,
    /// Also each island's figures at an experiment's end and each new best (`--verbose`).
    Verbose,
}

/// The stop conditions remaining time is measured against.
#[derive(Clone, Copy, Debug, Default)]
pub struct StopLimits {
    /// Individuals per experiment.
    pub max_individuals: Option<u64>,
    /// Experiments (0: no limit).
    pub max_experiments: u64,
    /// The run's deadline.
    pub deadline: Option<Instant>,
}

/// How far a remaining-time estimate reaches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Remaining {
    /// Until the whole run stops (a deadline, or every experiment's individuals).
    Run(Duration),
    /// Until the current experiment stops (more experiments may follow).
    Experiment(Duration),
}

/// The time left until the stop conditions end the run (or, with no limit on experiments, the
/// current experiment), at the current rate; `None` without a limit to measure against.
pub fn remaining(
    experiment: u64,
    p: &Progress,
    limits: &StopLimits,
    now: Instant,
) -> Option<Remaining> {
    let by_time = limits.deadline.map(|d| d.saturating_duration_since(now));
    let by_individuals = limits
        .max_individuals
        .filter(|_| p.individuals_per_second > 0.0)
        .map(|max| {
            let later = limits.max_experiments.saturating_sub(experiment);
            let left = max.saturating_sub(p.individuals) + later * max;
            Duration::from_secs_f64(left as f64 / p.individuals_per_second)
        });
    let whole_run = limits.max_experiments > 0;
    match (by_time, by_individuals) {
        (Some(t), Some(i)) if whole_run || t <= i => Some(Remaining::Run(t.min(i))),
        (Some(t), None) => Some(Remaining::Run(t)),
        (_, Some(i)) if whole_run => Some(Remaining::Run(i)),
        (_, Some(i)) => Some(Remaining::Experiment(i)),
        (None, None) => None,
    }
}

/// A duration as people read it: `42s`, `3m 05s`, `2h 10m`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A rate as a percentage, or `-` where there is none.
fn percent(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.1}%", 100.0 * r))
}

/// The plain progress line (the format `amlz search` has always printed, the hit rates and the
/// remaining time appended).
pub fn progress_line(experiment: u64, p: &Progress, left: Option<Remaining>) -> String {
    let mut line = format!(
        "exp {experiment:>3} | {:>9} individuals | {:>7.1} s | {:>7.0} ind/s | mean {:.4} | stdev {:.4} | best {:.6}",
        p.individuals,
        p.elapsed.as_secs_f64(),
        p.individuals_per_second,
        p.mean,
        p.stdev,
        p.best
    );
    if let Some(c) = &p.counters {
        line.push_str(&rates_text(c, " | "));
    }
    line.push_str(&remaining_text(left));
    line
}

/// The FEC and compiled-code hit rates, `between` separating the two.
fn rates_text(c: &SearchCounters, between: &str) -> String {
    format!(
        " | FEC {}{between}compiled {}",
        percent(c.fec_hit_rate()),
        percent(c.native_rate())
    )
}

fn remaining_text(left: Option<Remaining>) -> String {
    match left {
        Some(Remaining::Run(d)) => format!(" | ~{} left", human_duration(d)),
        Some(Remaining::Experiment(d)) => format!(" | ~{} left in exp", human_duration(d)),
        None => String::new(),
    }
}

/// The line at an experiment's end.
pub fn experiment_end_line(r: &ExperimentRecord) -> String {
    let mut line = format!(
        "exp {:>3} done: {} individuals in {:.1} s ({:.0} ind/s), FEC hit rate {:.1}%, search fitness {:.6}, select fitness {:.6}, {} structures compiled in {:.2} s, task evaluations {} native / {} lanes / {} alone (stopped on {})",
        r.index,
        r.individuals,
        r.seconds,
        r.individuals_per_second,
        100.0 * r.fec_hit_rate,
        r.search_fitness,
        r.select_fitness,
        r.jit_compiled,
        r.jit_compile_seconds,
        r.native_evaluations,
        r.lane_evaluations,
        r.task_evaluations
            .saturating_sub(r.native_evaluations + r.lane_evaluations),
        r.stop_reason
    );
    if r.hurdle_stops > 0 {
        line += &format!(", {} stopped by the hurdle", r.hurdle_stops);
    }
    line
}

/// One line per island of an experiment (verbose).
pub fn island_lines(r: &ExperimentRecord) -> Vec<String> {
    r.per_island
        .iter()
        .map(|i| {
            let fec = (i.fec_lookups > 0).then(|| i.fec_hits as f64 / i.fec_lookups as f64);
            format!(
                "exp {:>3} island {:>3}: {} individuals, best {:.6}, FEC {}, {} compiled, {} native, stopped on {}",
                r.index,
                i.island,
                i.individuals,
                i.best_fitness,
                percent(fec),
                i.jit_compiled,
                i.native_evaluations,
                i.stop_reason.map_or("a round", |s| stop_word(s))
            )
        })
        .collect()
}

fn stop_word(s: crate::search::StopReason) -> &'static str {
    use crate::search::StopReason::*;
    match s {
        Individuals => "individuals",
        TrainSteps => "trainsteps",
        Time => "time",
        Target => "target",
        Interrupted => "interrupted",
    }
}

/// Shows a running search's events on stderr.
pub struct ProgressDisplay {
    verbosity: Verbosity,
    limits: StopLimits,
    terminal: bool,
    bar: Option<ProgressBar>,
}

impl ProgressDisplay {
    /// A display at `verbosity`; live when stderr is a terminal, else plain lines.
    pub fn new(verbosity: Verbosity, limits: StopLimits) -> ProgressDisplay {
        Self::with_terminal(verbosity, limits, std::io::stderr().is_terminal())
    }

    /// A display that draws live (`terminal`) or prints plain lines.
    pub fn with_terminal(
        verbosity: Verbosity,
        limits: StopLimits,
        terminal: bool,
    ) -> ProgressDisplay {
        ProgressDisplay {
            verbosity,
            limits,
            terminal,
            bar: None,
        }
    }

    /// Prints a line above the live line (or as it is).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Shows one event.
    pub fn event(&mut self, event: &Event<'_>) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match event {
            Event::ExperimentStart { index } => {
                if self.terminal {
                    self.start_bar(*index);
                }
            }
            Event::Progress {
                experiment,
                progress,
            } => self.progress(*experiment, progress),
            Event::ExperimentEnd(r) => {
                self.println(&experiment_end_line(r));
                if self.verbosity == Verbosity::Verbose {
                    for line in island_lines(r) {
                        self.println(&line);
                    }
                }
                self.finish();
            }
            Event::Checkpoint(view) => {
                if self.verbosity == Verbosity::Verbose {
                    let at = view.experiment.map_or(0, |x| {
                        x.islands.iter().map(|i| i.evolution.individuals).sum()
                    });
                    self.println(&format!(
                        "checkpoint: {} experiments done, {at} individuals into the next",
                        view.run.records.len()
                    ));
                }
            }
            Event::NewBest {
                experiment,
                best,
                select_fitness,
            } => {
                if self.verbosity == Verbosity::Verbose {
                    self.println(&format!(
                        "exp {experiment:>3}: new best, search fitness {:.6}, select fitness {select_fitness:.6}",
                        best.fitness
                    ));
                }
            }
        }
    }

    fn progress(&mut self, experiment: u64, p: &Progress) {
        let left = remaining(experiment, p, &self.limits, Instant::now());
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.individuals);
                bar.set_message(live_message(p, left));
            }
            None => eprintln!("{}", progress_line(experiment, p, left)),
        }
    }

    fn start_bar(&mut self, experiment: u64) {
        let (bar, template) = match self.limits.max_individuals {
            Some(max) => (
                ProgressBar::with_draw_target(Some(max), ProgressDrawTarget::stderr()),
                "{spinner} exp {prefix} [{bar:24}] {human_pos}/{human_len} ind | {elapsed} | {msg}",
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "{spinner} exp {prefix} {human_pos} ind | {elapsed} | {msg}",
            ),
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(experiment.to_string());
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    /// Clears the live line (at an experiment's end, and before the final result).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The message of the live line.
fn live_message(p: &Progress, left: Option<Remaining>) -> String {
    let mut m = format!(
        "{:.0} ind/s | best {:.6} mean {:.4}",
        p.individuals_per_second, p.best, p.mean
    );
    if let Some(c) = &p.counters {
        m.push_str(&rates_text(c, " "));
    }
    m.push_str(&remaining_text(left));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(individuals: u64, rate: f64) -> Progress {
        Progress {
            individuals,
            elapsed: Duration::from_secs(1),
            individuals_per_second: rate,
            mean: 0.5,
            stdev: 0.1,
            best: 0.9,
            counters: None,
        }
    }

    #[test]
    fn remaining_time_follows_the_nearest_stop() {
        let now = Instant::now();
        let p = progress(1000, 100.0);
        let mut limits = StopLimits {
            max_individuals: Some(2000),
            max_experiments: 0,
            deadline: None,
        };
        let secs = |r: Option<Remaining>| match r {
            Some(Remaining::Run(d)) => ("run", d.as_secs()),
            Some(Remaining::Experiment(d)) => ("exp", d.as_secs()),
            None => ("none", 0),
        };
        assert_eq!(secs(remaining(1, &p, &limits, now)), ("exp", 10));
        limits.max_experiments = 3;
        assert_eq!(secs(remaining(1, &p, &limits, now)), ("run", 50));
        limits.deadline = Some(now + Duration::from_secs(20));
        assert_eq!(secs(remaining(1, &p, &limits, now)), ("run", 20));
        limits.max_individuals = None;
        assert_eq!(secs(remaining(1, &p, &limits, now)), ("run", 20));
        assert_eq!(
            secs(remaining(1, &p, &StopLimits::default(), now)),
            ("none", 0)
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human_duration(Duration::from_secs(7800)), "2h 10m");
    }

    #[test]
    fn the_plain_line_keeps_its_format() {
        let line = progress_line(2, &progress(10000, 5000.0), None);
        assert_eq!(
            line,
            "exp   2 |     10000 individuals |     1.0 s |    5000 ind/s | mean 0.5000 | stdev 0.1000 | best 0.900000"
        );
    }
}
