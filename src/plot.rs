//! `amlz plot`: a run directory's progress log drawn as a PNG: best and mean search fitness
//! against the run's individuals (top) and seconds (bottom), each experiment's start marked, and
//! the moment the select fitness passed `sufficient_fitness` (from `summary.json`).

use crate::run_dir::{self, ProgressRecord, RunDirError, RunInfo};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Width and height of the image in pixels.
pub const SIZE: (u32, u32) = (1200, 900);

/// A plot that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The run directory or one of its files is missing or bad.
    #[error("{0}")]
    RunDir(#[from] RunDirError),
    /// The progress log has no report yet.
    #[error("{}: no progress reports yet", .0.display())]
    Empty(PathBuf),
    /// Drawing or encoding failed.
    #[error("cannot draw the plot: {0}")]
    Draw(String),
}

/// What the plot shows besides the progress log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    /// A title line (config and seed).
    pub title: String,
    /// `experiments.sufficient_fitness`, drawn as a level.
    pub sufficient_fitness: Option<f64>,
    /// When the select fitness passed it: run individuals and run seconds.
    pub sufficient_at: Option<(u64, f64)>,
}

/// The part of `summary.json` the plot reads.
#[derive(serde::Deserialize)]
struct SummaryView {
    individuals: u64,
    seconds_to_sufficient: Option<f64>,
}

/// Draws `dir`'s progress into a PNG at `output` (default `dir/progress.png`), written
/// atomically; returns the path written.
///
/// # Errors
/// If the directory, its log or its summary is missing or bad, the log is empty, or drawing
/// or writing fails.
pub fn plot_run(dir: &Path, output: Option<&Path>) -> Result<PathBuf, PlotError> {
    let records = run_dir::read_progress(dir)?;
    if records.is_empty() {
        return Err(PlotError::Empty(dir.join(run_dir::PROGRESS)));
    }
    let marks = marks(dir)?;
    let png = render(&records, &marks)?;
    let out = output.map_or_else(|| dir.join(run_dir::PLOT), Path::to_path_buf);
    run_dir::write_atomic(&out, &png).map_err(|source| RunDirError::Io {
        path: out.clone(),
        action: "write",
        source,
    })?;
    Ok(out)
}

/// The marks of `dir`: from `run.json` and `summary.json` where they exist.
fn marks(dir: &Path) -> Result<Marks, PlotError> {
    let info: Option<RunInfo> = dir
        .join(run_dir::RUN_INFO)
        .exists()
        .then(|| run_dir::read_info(dir))
        .transpose()?;
    let summary_path = dir.join(run_dir::SUMMARY);
    let summary: Option<SummaryView> = if summary_path.exists() {
        let text = std::fs::read_to_string(&summary_path).map_err(|source| RunDirError::Io {
            path: summary_path.clone(),
            action: "read",
            source,
        })?;
        Some(serde_json::from_str(&text).map_err(|e| RunDirError::Bad {
            path: summary_path.clone(),
            line: None,
            message: e.to_string(),
        })?)
    } else {
        None
    };
    Ok(Marks {
        title: info.as_ref().map_or_else(
            || dir.display().to_string(),
            |i| format!("{} (seed {})", i.config, i.seed),
        ),
        sufficient_fitness: info.and_then(|i| i.sufficient_fitness),
        // The run stops at the experiment that passes it: the moment is the run's last.
        sufficient_at: summary.and_then(|s| s.seconds_to_sufficient.map(|t| (s.individuals, t))),
    })
}

/// Registers the embedded font with plotters once (no system font is ever looked up).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_err()
        {
            unreachable!("the embedded DejaVu Sans is a valid font");
        }
    });
}

/// The plot of `records` with `marks`, as PNG bytes.
///
/// # Errors
/// If drawing or encoding fails.
pub fn render(records: &[ProgressRecord], marks: &Marks) -> Result<Vec<u8>, PlotError> {
    register_font();
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, records, marks).map_err(|e| PlotError::Draw(e.to_string()))?;
        root.present().map_err(|e| PlotError::Draw(e.to_string()))?;
    }
    encode_png(&rgb, SIZE)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, PlotError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PlotError::Draw(e.to_string()))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| PlotError::Draw(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| PlotError::Draw(e.to_string()))?;
    Ok(bytes)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The two panels, over individuals and over seconds.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    records: &[ProgressRecord],
    marks: &Marks,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(&marks.title, ("sans-serif", 24))?;
    let panels = root.split_evenly((2, 1));
    let by_individuals = Axis {
        label: "individuals (whole run)",
        x: |r| r.run_individuals as f64,
        start: |r| (r.run_individuals - r.individuals) as f64,
        mark: marks.sufficient_at.map(|(i, _)| i as f64),
    };
    let by_seconds = Axis {
        label: "seconds (whole run)",
        x: |r| r.run_seconds,
        start: |r| (r.run_seconds - r.elapsed_s).max(0.0),
        mark: marks.sufficient_at.map(|(_, t)| t),
    };
    panel(&panels[0], records, marks, &by_individuals)?;
    panel(&panels[1], records, marks, &by_seconds)?;
    Ok(())
}

/// One panel's x axis: what a record's x is, where its experiment started, where the
/// sufficient-fitness mark goes.
struct Axis {
    label: &'static str,
    x: fn(&ProgressRecord) -> f64,
    start: fn(&ProgressRecord) -> f64,
    mark: Option<f64>,
}

/// A tick label: whole numbers, thousands as `k` and millions as `M`.
fn tick(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

/// `x` with at most two decimals, trailing zeros dropped.
fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Records grouped by experiment, in order.
fn experiments(records: &[ProgressRecord]) -> Vec<&[ProgressRecord]> {
    records
        .chunk_by(|a, b| a.experiment == b.experiment)
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    records: &[ProgressRecord],
    marks: &Marks,
    axis: &Axis,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x_max = records
        .iter()
        .map(axis.x)
        .chain(axis.mark)
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.02;
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0f64)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| tick(*x))
        .x_desc(axis.label)
        .y_desc("search fitness")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    for (k, exp) in experiments(records).iter().skip(1).enumerate() {
        let x = (axis.start)(&exp[0]);
        let line =
            chart.draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], grey.stroke_width(1)))?;
        if k == 0 {
            line.label("experiment start").legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(1))
            });
        }
    }
    if let Some(level) = marks.sufficient_fitness {
        let pink = RED.mix(0.5);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, level), (x_max, level)],
                6,
                4,
                pink.stroke_width(1),
            ))?
            .label(format!("sufficient_fitness {level}"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], pink.stroke_width(1)));
    }
    let best_colour = RGBColor(31, 119, 180);
    let mean_colour = RGBColor(255, 127, 14);
    for (k, exp) in experiments(records).into_iter().enumerate() {
        for (name, colour, y) in [
            (
                "best",
                best_colour,
                (|r| r.best) as fn(&ProgressRecord) -> f64,
            ),
            ("mean", mean_colour, |r| r.mean),
        ] {
            let series = chart.draw_series(LineSeries::new(
                exp.iter().map(|r| ((axis.x)(r), y(r))),
                colour.stroke_width(2),
            ))?;
            if k == 0 {
                series.label(name).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            }
        }
    }
    if let Some(x) = axis.mark {
        let text = match marks.sufficient_fitness {
            Some(f) => format!("select fitness > {f} reached"),
            None => "sufficient fitness reached".to_string(),
        };
        chart
            .draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], RED.stroke_width(2)))?
            .label(text)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    Ok(())
}
