//! The report's plots, drawn with plotters' SVG backend: optimisation
//! history, parallel coordinates, one slice per parameter, fold spread of
//! the top trials and parameter importance.
//!
//! Each function returns one `<svg>` element as text. Data are drawn in
//! colours (never grey, black or white) and axes, grids and labels in
//! greys, so a checker can tell a plot with data from empty axes by colour
//! alone (tests/report_browser.rs does, in a real browser). The output is
//! a pure function of the input: no clock, no random numbers (the jitter
//! of categorical points comes from the trial number).

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{axis_of, axis_position, fmt_sig, ok_value, Axis, Folder};
use crate::config::Direction;

/// A plotting failure (plotters' error as text).
pub type PlotError = String;

/// Colours of successive searches (no two channels equal, so never grey).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The colour of the best trial's marks.
const BEST: RGBColor = RGBColor(214, 39, 40);

const FONT: &str = "sans-serif";

fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    format!("cannot draw the plot: {e:?}")
}

/// A colour from dark purple (0) through teal to yellow (1), a perceptually
/// ordered ramp in the spirit of viridis.
pub fn ramp(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A range around `lo..hi` with a margin, never empty.
fn padded(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        let (a, b) = (lo.ln(), hi.ln());
        let m = ((b - a) * 0.05).max(0.05);
        return ((a - m).exp(), (b + m).exp());
    }
    let m = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - m, hi + m)
}

fn min_max(xs: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    xs.filter(|x| x.is_finite()).fold(None, |acc, x| match acc {
        None => Some((x, x)),
        Some((a, b)) => Some((a.min(x), b.max(x))),
    })
}

/// Whether values spread over enough orders of magnitude (all positive) to
/// be drawn on a log axis.
fn wants_log(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 100.0
}

fn tick(v: &f64) -> String {
    fmt_sig(*v, 3)
}

/// A drawn plot: its `<svg>` element and the notes a reader needs (points
/// thinned, values drawn at an edge), which the plot also shows above its
/// axes; the report repeats them in the caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    /// The `<svg>` element.
    pub svg: String,
    /// Sentences, each ending with a full stop.
    pub notes: Vec<String>,
}

/// Above this many points, a scatter plot draws one point per
/// [`CELL`]-pixel cell (the last in drawing order, the one that would be
/// on top): more points in one cell would cover each other.
pub const THIN_ABOVE: usize = 2_000;

/// Side, in pixels, of the cells a thinned scatter plot draws one point
/// in (its dots have a radius of 3 pixels).
pub const CELL: i32 = 4;

/// Most lines the parallel-coordinates plot draws: the best
/// [`BEST_LINES`] and an even spread, by rank, of the rest.
pub const MAX_LINES: usize = 2_000;

/// Lines of the best trials the parallel-coordinates plot always draws.
pub const BEST_LINES: usize = 200;

/// Of points at pixel positions `pixels`, in drawing order, the indices of
/// the last one in each [`CELL`] × [`CELL`] cell, in drawing order.
/// Deterministic: it depends only on the positions.
fn one_per_cell(pixels: &[(i32, i32)]) -> Vec<usize> {
    let mut last: std::collections::BTreeMap<(i32, i32), usize> = Default::default();
    for (i, &(x, y)) in pixels.iter().enumerate() {
        last.insert((x.div_euclid(CELL), y.div_euclid(CELL)), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    keep
}

/// `n` with a comma every three digits (`100,000`).
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The note of a thinned plot.
fn thinned_note(shown: usize, total: usize, how: &str) -> String {
    format!(
        "Showing {} of {} trials ({how}).",
        thousands(shown),
        thousands(total)
    )
}

/// Draw `notes` in the top margin of `root` (grey, so they read as labels,
/// not data).
fn draw_notes<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    notes: &[String],
) -> Result<(), PlotError> {
    for (i, n) in notes.iter().enumerate() {
        root.draw_text(
            n,
            &TextStyle::from((FONT, 13)).color(&BLACK.mix(0.6)),
            (12, 4 + 16 * i as i32),
        )
        .map_err(err)?;
    }
    Ok(())
}

/// How a plot's value axis is laid out: its ends (before padding), whether
/// it is logarithmic, and where values too bad to draw to scale go.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueAxis {
    /// The lowest value drawn to scale.
    pub lo: f64,
    /// The highest value drawn to scale.
    pub hi: f64,
    /// A log axis: every value positive, spanning two orders of magnitude.
    pub log: bool,
    /// Values worse than this are drawn at the axis's edge, as triangles.
    pub cut: Option<f64>,
    /// How many values are beyond the cut.
    pub n_cut: usize,
}

/// The `p`-quantile of sorted `s` (linear interpolation; `s` not empty).
fn quantile(s: &[f64], p: f64) -> f64 {
    let h = p * (s.len() - 1) as f64;
    let i = h.floor() as usize;
    match s.get(i + 1) {
        Some(next) => s[i] + (next - s[i]) * (h - i as f64),
        None => s[i],
    }
}

/// The value axis for `values` (finite ones; `None` when there are none).
///
/// Robust limits: a few trials far worse than the rest (chance-level
/// accuracy among good ones, a diverged loss) would squash the others into
/// a line, so values worse than Tukey's fence — 1.5 interquartile ranges
/// beyond the worse quartile, measured on the axis's scale — are not drawn
/// to scale but at the edge, marked. The better side is never cut: the
/// best value is always on the axis. The axis is logarithmic when every
/// value is positive and they span two orders of magnitude.
pub fn value_axis(values: &[f64], direction: Direction) -> Option<ValueAxis> {
    let (lo, hi) = min_max(values.iter().copied())?;
    let log = wants_log(lo, hi);
    let scale = |v: f64| if log { v.ln() } else { v };
    let mut s: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .map(scale)
        .collect();
    s.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&s, 0.25), quantile(&s, 0.75));
    let iqr = q3 - q1;
    let unscale = |t: f64| if log { t.exp() } else { t };
    let fence = match direction {
        Direction::Minimize => q3 + 1.5 * iqr,
        Direction::Maximize => q1 - 1.5 * iqr,
    };
    let beyond = |v: f64| match direction {
        Direction::Minimize => scale(v) > fence,
        Direction::Maximize => scale(v) < fence,
    };
    let n_cut = if iqr > 0.0 && fence.is_finite() {
        values
            .iter()
            .filter(|v| v.is_finite() && beyond(**v))
            .count()
    } else {
        0
    };
    if n_cut == 0 {
        return Some(ValueAxis {
            lo,
            hi,
            log,
            cut: None,
            n_cut: 0,
        });
    }
    let (lo, hi) = min_max(values.iter().copied().filter(|v| !beyond(*v))).unwrap_or((lo, hi));
    Some(ValueAxis {
        lo,
        hi,
        log: log && wants_log(lo, hi),
        cut: Some(unscale(fence)),
        n_cut,
    })
}

impl ValueAxis {
    /// The axis's drawn range (padded).
    fn range(&self) -> (f64, f64) {
        padded(self.lo, self.hi, self.log)
    }

    /// Where `v` is drawn, and whether it is beyond the cut (then at the
    /// edge of the drawn range).
    fn place(&self, v: f64, direction: Direction) -> (f64, bool) {
        let (a, b) = self.range();
        match (self.cut, direction) {
            (Some(c), Direction::Minimize) if v > c => (b, true),
            (Some(c), Direction::Maximize) if v < c => (a, true),
            _ => (v.clamp(a, b), false),
        }
    }

    /// The note for the values beyond the cut, if any.
    fn note(&self, direction: Direction, metric: &str) -> Option<String> {
        let c = self.cut?;
        let (worse, edge) = match direction {
            Direction::Minimize => ("above", "top"),
            Direction::Maximize => ("below", "bottom"),
        };
        Some(format!(
            "{} trials with {metric} {worse} {} are drawn as triangles at the {edge} edge, \
             so the others are not squashed.",
            thousands(self.n_cut),
            fmt_sig(c, 4)
        ))
    }

    /// The axis's description.
    fn desc(&self, metric: &str) -> String {
        if self.log {
            format!("{metric} (log scale)")
        } else {
            metric.to_string()
        }
    }
}

/// One search's points and best-so-far line in the history plot.
pub struct History<'a> {
    /// Legend name.
    pub name: String,
    /// The search.
    pub folder: &'a Folder,
}

/// Optimisation history: every successful trial's value against its trial
/// number, and the best value so far as a step line, one colour a search.
/// The value axis is [`value_axis`] of all the searches' values (the
/// first search's direction decides which side is worse). Past
/// [`THIN_ABOVE`] trials a search's dots are thinned to one per cell.
pub fn history(series: &[History<'_>], metric: &str) -> Result<Drawn, PlotError> {
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.folder.rows.iter().filter_map(ok_value))
        .collect();
    let direction = series
        .first()
        .map_or(Direction::Minimize, |s| s.folder.direction);
    let axis = value_axis(&all, direction).ok_or("no successful trial")?;
    let n = series
        .iter()
        .map(|s| s.folder.rows.len())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = RangedCoordf64::from(-0.5..n - 0.5);
    let (a, b) = axis.range();
    if axis.log {
        history_on(series, metric, &axis, x, (a..b).log_scale())
    } else {
        history_on(series, metric, &axis, x, RangedCoordf64::from(a..b))
    }
}

fn history_on<Y>(
    series: &[History<'_>],
    metric: &str,
    axis: &ValueAxis,
    x: RangedCoordf64,
    y: Y,
) -> Result<Drawn, PlotError>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let direction = series
        .first()
        .map_or(Direction::Minimize, |s| s.folder.direction);
    let thin = series.iter().any(|s| s.folder.rows.len() > THIN_ABOVE);
    let mut notes: Vec<String> = Vec::new();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_top(if thin || axis.cut.is_some() { 44 } else { 12 })
            .x_label_area_size(42)
            .y_label_area_size(72)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("trial")
            .y_desc(axis.desc(metric))
            .x_label_formatter(&|v| format!("{}", v.round() as i64))
            .y_label_formatter(&tick)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .max_light_lines(1)
            .draw()
            .map_err(err)?;
        let (mut shown, mut total) = (0, 0);
        for (i, s) in series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            // (trial, drawn value, beyond the cut)
            let pts: Vec<(f64, f64, bool)> = s
                .folder
                .rows
                .iter()
                .filter_map(|r| {
                    let (y, out) = axis.place(ok_value(r)?, direction);
                    Some((r.trial as f64, y, out))
                })
                .collect();
            let keep: Vec<usize> = if s.folder.rows.len() > THIN_ABOVE {
                let px: Vec<(i32, i32)> = pts
                    .iter()
                    .map(|&(x, y, _)| chart.backend_coord(&(x, y)))
                    .collect();
                one_per_cell(&px)
            } else {
                (0..pts.len()).collect()
            };
            shown += keep.len();
            total += pts.len();
            chart
                .draw_series(
                    keep.iter()
                        .map(|&k| pts[k])
                        .filter(|p| !p.2)
                        .map(|(x, y, _)| Circle::new((x, y), 3, c.mix(0.45).filled())),
                )
                .map_err(err)?;
            chart
                .draw_series(
                    keep.iter()
                        .map(|&k| pts[k])
                        .filter(|p| p.2)
                        .map(|(x, y, _)| TriangleMarker::new((x, y), 5, c.mix(0.8).filled())),
                )
                .map_err(err)?;
            // The best so far changes rarely: a step at each change and a
            // last point at the last trial, not two points a trial.
            let mut step: Vec<(f64, f64)> = Vec::new();
            let mut cur: Option<f64> = None;
            let so_far = s.folder.best_so_far();
            for (t, b) in so_far.iter().enumerate() {
                let Some(b) = *b else { continue };
                let y = axis.place(b, direction).0;
                match cur {
                    None => step.push((t as f64, y)),
                    Some(prev) if prev.to_bits() != y.to_bits() => {
                        step.push((t as f64, prev));
                        step.push((t as f64, y));
                    }
                    Some(_) => {}
                }
                cur = Some(y);
            }
            if let (Some(y), Some(&(t, _))) = (cur, step.last()) {
                let last = so_far.len().saturating_sub(1) as f64;
                if t < last {
                    step.push((last, y));
                }
            }
            chart
                .draw_series(LineSeries::new(step, c.stroke_width(2)))
                .map_err(err)?
                .label(format!("{} (best so far)", s.name))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if shown < total {
            notes.push(thinned_note(
                shown,
                total,
                &format!("one dot per {CELL}-pixel cell, where more would overlap"),
            ));
        }
        notes.extend(axis.note(direction, metric));
        let corner = match direction {
            Direction::Maximize => SeriesLabelPosition::LowerRight,
            Direction::Minimize => SeriesLabelPosition::UpperRight,
        };
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, 15))
            .draw()
            .map_err(err)?;
        draw_notes(&root, &notes)?;
        root.present().map_err(err)?;
    }
    Ok(Drawn { svg, notes })
}

/// Most curves the intermediate-values plot draws: an even spread, by
/// trial number, of the trials that reported values, and the best trial.
pub const MAX_CURVES: usize = 400;

/// The colour of complete trials' curves.
const COMPLETE: RGBColor = PALETTE[0];
/// The colour of pruned trials' curves and of the cross where each stopped.
const PRUNED: RGBColor = PALETTE[1];

/// Intermediate values (a search with `[search.pruner]`): one line per
/// complete or pruned trial that reported values, step against value.
/// Complete trials are drawn in blue, 2 px; pruned trials thinner and
/// orange, with a cross at the step the pruner stopped them; the best
/// trial thick, on top. The value axis is [`value_axis`] of every value
/// drawn. Past [`MAX_CURVES`] trials it draws an even spread by trial
/// number, and the best trial, and says so.
pub fn curves(f: &Folder) -> Result<Drawn, PlotError> {
    use crate::objective::Status;
    let all: Vec<&crate::journal::Row> = f
        .rows
        .iter()
        .filter(|r| matches!(r.status, Status::Ok | Status::Pruned) && !r.steps.is_empty())
        .collect();
    if all.is_empty() {
        return Err("no trial reported an intermediate value".into());
    }
    let best = f.best().map(|b| b.trial);
    let mut picked: Vec<&crate::journal::Row> = if all.len() > MAX_CURVES {
        super::importance::spread(all.len(), MAX_CURVES)
            .into_iter()
            .map(|i| all[i])
            .collect()
    } else {
        all.clone()
    };
    if let Some(b) = best.and_then(|b| all.iter().find(|r| r.trial == b)) {
        if !picked.iter().any(|r| r.trial == b.trial) {
            picked.push(b);
        }
    }
    let mut notes: Vec<String> = Vec::new();
    if picked.len() < all.len() {
        notes.push(thinned_note(
            picked.len(),
            all.len(),
            "an even spread by trial number, and the best",
        ));
    }
    let values: Vec<f64> = picked
        .iter()
        .flat_map(|r| r.steps.iter().map(|&(_, v)| v))
        .collect();
    let axis = value_axis(&values, f.direction).ok_or("no finite intermediate value")?;
    let last = picked
        .iter()
        .filter_map(|r| r.steps.last().map(|&(s, _)| s))
        .max()
        .unwrap_or(0) as f64;
    let x = RangedCoordf64::from(-0.02 * last.max(1.0)..last.max(1.0) * 1.02);
    let (a, b) = axis.range();
    if axis.log {
        curves_on(f, &picked, best, &axis, notes, x, (a..b).log_scale())
    } else {
        curves_on(
            f,
            &picked,
            best,
            &axis,
            notes,
            x,
            RangedCoordf64::from(a..b),
        )
    }
}

fn curves_on<Y>(
    f: &Folder,
    picked: &[&crate::journal::Row],
    best: Option<u64>,
    axis: &ValueAxis,
    mut notes: Vec<String>,
    x: RangedCoordf64,
    y: Y,
) -> Result<Drawn, PlotError>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    use crate::objective::Status;
    notes.extend(axis.note(f.direction, &f.metric));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_top(if notes.is_empty() {
                12
            } else {
                12 + 16 * notes.len() as u32
            })
            .x_label_area_size(42)
            .y_label_area_size(72)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc(axis.desc(&format!("intermediate {}", f.metric)))
            .x_label_formatter(&|v| format!("{}", v.round() as i64))
            .y_label_formatter(&tick)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .max_light_lines(1)
            .draw()
            .map_err(err)?;
        let line = |r: &crate::journal::Row| -> Vec<(f64, f64)> {
            r.steps
                .iter()
                .map(|&(s, v)| (s as f64, axis.place(v, f.direction).0))
                .collect()
        };
        // Pruned first, then complete, then the best: the ones that
        // matter most on top.
        let pruned: Vec<&&crate::journal::Row> = picked
            .iter()
            .filter(|r| r.status == Status::Pruned)
            .collect();
        let complete: Vec<&&crate::journal::Row> = picked
            .iter()
            .filter(|r| r.status == Status::Ok && Some(r.trial) != best)
            .collect();
        let mut first = true;
        for r in &pruned {
            let drawn = chart
                .draw_series(std::iter::once(PathElement::new(
                    line(r),
                    PRUNED.mix(0.45).stroke_width(1),
                )))
                .map_err(err)?;
            if first {
                drawn
                    .label("pruned (a cross where it stopped)")
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], PRUNED.stroke_width(1))
                    });
                first = false;
            }
        }
        chart
            .draw_series(pruned.iter().filter_map(|r| {
                let (s, v) = *r.steps.last()?;
                Some(Cross::new(
                    (s as f64, axis.place(v, f.direction).0),
                    4,
                    PRUNED.stroke_width(2),
                ))
            }))
            .map_err(err)?;
        let mut first = true;
        for r in &complete {
            let drawn = chart
                .draw_series(std::iter::once(PathElement::new(
                    line(r),
                    COMPLETE.mix(0.7).stroke_width(2),
                )))
                .map_err(err)?;
            if first {
                drawn.label("complete").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], COMPLETE.stroke_width(2))
                });
                first = false;
            }
        }
        if let Some(b) = picked
            .iter()
            .find(|r| Some(r.trial) == best && r.status == Status::Ok)
        {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    line(b),
                    BEST.stroke_width(3),
                )))
                .map_err(err)?
                .label(format!("best (trial {})", b.trial))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BEST.stroke_width(3)));
        }
        let corner = match f.direction {
            Direction::Maximize => SeriesLabelPosition::LowerRight,
            Direction::Minimize => SeriesLabelPosition::UpperRight,
        };
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, 15))
            .draw()
            .map_err(err)?;
        draw_notes(&root, &notes)?;
        root.present().map_err(err)?;
    }
    Ok(Drawn { svg, notes })
}

/// Parallel coordinates: one vertical axis per parameter and one for the
/// value; each successful trial a line across them, coloured by how good
/// its value is (yellow best, purple worst) and drawn worst first so the
/// best lie on top. Parameters sit at their unit-cube position (log
/// parameters on a log scale, choices at the middle of their cells). Past
/// [`MAX_LINES`] trials it draws the best [`BEST_LINES`] and an even spread
/// of the rest by rank (so the colours keep their proportions), and says so.
pub fn parallel(f: &Folder) -> Result<Drawn, PlotError> {
    let all = f.ranked();
    let (lo, hi) = min_max(all.iter().filter_map(|r| r.value)).ok_or("no successful trial")?;
    let ranked: Vec<&crate::journal::Row> = if all.len() > MAX_LINES {
        let rest = &all[BEST_LINES..];
        all[..BEST_LINES]
            .iter()
            .copied()
            .chain(
                super::importance::spread(rest.len(), MAX_LINES - BEST_LINES)
                    .into_iter()
                    .map(|i| rest[i]),
            )
            .collect()
    } else {
        all.clone()
    };
    let notes: Vec<String> = if ranked.len() < all.len() {
        vec![thinned_note(
            ranked.len(),
            all.len(),
            &format!(
                "the best {} and an even spread of the rest by rank",
                thousands(BEST_LINES)
            ),
        )]
    } else {
        Vec::new()
    };
    let m = f.params.len() + 1;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let goodness = |v: f64| match f.direction {
        Direction::Maximize => (v - lo) / span,
        Direction::Minimize => (hi - v) / span,
    };
    let width = (180 * m as u32).clamp(600, 1100);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_left(40)
            .margin_right(40)
            .margin_top(24)
            .margin_bottom(10)
            .build_cartesian_2d(-0.15..(m as f64 - 0.85), -0.16..1.08)
            .map_err(err)?;
        // Worst first, so the best lines are drawn last, on top.
        for r in ranked.iter().rev() {
            let Some(v) = r.value else { continue };
            let g = goodness(v);
            let mut pts: Vec<(f64, f64)> = f
                .unit_of(r)
                .into_iter()
                .enumerate()
                .map(|(k, u)| (k as f64, u))
                .collect();
            pts.push(((m - 1) as f64, (v - lo) / span));
            let c = ramp(g);
            let width = if r.trial == ranked[0].trial { 3 } else { 1 };
            chart
                .draw_series(std::iter::once(PathElement::new(
                    pts,
                    c.mix(0.8).stroke_width(width),
                )))
                .map_err(err)?;
        }
        let grey = BLACK.mix(0.55);
        let label = |s: String, x: f64, y: f64, pos: Pos| {
            Text::new(
                s,
                (x, y),
                TextStyle::from((FONT, 14)).pos(pos).color(&BLACK),
            )
        };
        let below = Pos::new(HPos::Center, VPos::Top);
        let right = Pos::new(HPos::Left, VPos::Center);
        for k in 0..m {
            let x = k as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, 0.0), (x, 1.0)],
                    grey.stroke_width(1),
                )))
                .map_err(err)?;
            let name = f
                .params
                .get(k)
                .map_or(format!("{} ({})", f.metric, f.direction.name()), |p| {
                    p.name.clone()
                });
            chart
                .draw_series(std::iter::once(Text::new(
                    name,
                    (x, -0.06),
                    TextStyle::from((FONT, 15)).pos(below).color(&BLACK),
                )))
                .map_err(err)?;
            let ticks: Vec<(f64, String)> = match f.params.get(k) {
                Some(p) => unit_ticks(p),
                None => vec![(0.0, fmt_sig(lo, 4)), (1.0, fmt_sig(hi, 4))],
            };
            for (y, s) in ticks {
                chart
                    .draw_series([
                        PathElement::new(vec![(x - 0.02, y), (x, y)], grey.stroke_width(1))
                            .into_dyn(),
                        label(s, x + 0.03, y, right).into_dyn(),
                    ])
                    .map_err(err)?;
            }
        }
        draw_notes(&root, &notes)?;
        root.present().map_err(err)?;
    }
    Ok(Drawn { svg, notes })
}

/// Tick marks of a parameter's parallel-coordinates axis: positions in
/// the unit cube (as [`crate::space::Param::to_unit`] places values) and
/// labels. Every value of a small domain (six or fewer), five spread over
/// a larger grid, else the low end, the middle (geometric on a log scale)
/// and the high end.
fn unit_ticks(p: &crate::space::Param) -> Vec<(f64, String)> {
    use crate::space::Domain;
    use crate::value::Value;
    let values: Vec<Value> = match p.n_points().filter(|&n| n <= 10_000).map(|_| p.grid()) {
        Some(Ok(g)) if g.len() <= 6 => g,
        Some(Ok(g)) => (0..5).map(|i| g[i * (g.len() - 1) / 4].clone()).collect(),
        _ => match &p.domain {
            Domain::Float { low, high, log, .. } => {
                let mid = if *log {
                    (low * high).sqrt()
                } else {
                    0.5 * (low + high)
                };
                vec![Value::Float(*low), Value::Float(mid), Value::Float(*high)]
            }
            Domain::Int { low, high, log, .. } => {
                let mid = if *log {
                    ((*low as f64) * (*high as f64)).sqrt().round() as i64
                } else {
                    low + (high - low) / 2
                };
                vec![Value::Int(*low), Value::Int(mid), Value::Int(*high)]
            }
            _ => Vec::new(),
        },
    };
    values
        .iter()
        .map(|v| {
            let label = match v {
                Value::Float(x) => fmt_sig(*x, 3),
                other => other.to_string(),
            };
            (p.to_unit(v), label)
        })
        .collect()
}

/// A point of a slice plot.
#[derive(Clone, Copy)]
struct SlicePoint {
    x: f64,
    /// Where the value is drawn (at the edge when beyond the cut).
    y: f64,
    colour: RGBColor,
    best: bool,
    beyond: bool,
}

/// A slice plot: the value of every successful trial against parameter
/// `k`, coloured by trial number (purple early, yellow late), the best
/// trial marked in red. Log parameters get a log axis; choices sit at
/// their positions with a small deterministic jitter. The value axis is
/// [`value_axis`]; past [`THIN_ABOVE`] trials the dots are thinned to one
/// per cell (the best trial's ring is always drawn).
pub fn slice(f: &Folder, k: usize) -> Result<Drawn, PlotError> {
    let p = f.params.get(k).ok_or("no such parameter")?;
    let axis = axis_of(p);
    let n = f.rows.len().max(2) as f64;
    let best = f.best().map(|r| r.trial);
    let values: Vec<f64> = f.rows.iter().filter_map(ok_value).collect();
    let vaxis = value_axis(&values, f.direction).ok_or("no successful trial")?;
    let pts: Vec<SlicePoint> = f
        .rows
        .iter()
        .filter_map(|r| {
            let v = ok_value(r)?;
            let x = axis_position(&axis, &f.value_of(r, k)?)?;
            let x = match axis {
                // Golden-ratio jitter by trial number: spread, reproducible.
                Axis::Choices(_) => {
                    x + ((r.trial as f64 * 0.618_033_988_749_895).fract() - 0.5) * 0.3
                }
                Axis::Numeric { .. } => x,
            };
            let (y, beyond) = vaxis.place(v, f.direction);
            Some(SlicePoint {
                x,
                y,
                colour: ramp(r.trial as f64 / (n - 1.0)),
                best: Some(r.trial) == best,
                beyond,
            })
        })
        .collect();
    if pts.is_empty() {
        return Err("no successful trial".into());
    }
    let (ya, yb) = vaxis.range();
    let ylog = vaxis.log;
    let (xa, xb, xlog) = match &axis {
        Axis::Choices(names) => (-0.5, names.len() as f64 - 0.5, false),
        Axis::Numeric { low, high, log } => {
            let (lo, hi) =
                min_max(pts.iter().map(|p| p.x).chain([*low, *high])).unwrap_or((*low, *high));
            let log = *log && lo > 0.0;
            let (a, b) = padded(lo, hi, log);
            (a, b, log)
        }
    };
    let names = match &axis {
        Axis::Choices(names) => Some(names.clone()),
        Axis::Numeric { .. } => None,
    };
    let xdesc = if xlog {
        format!("{} (log scale)", p.name)
    } else {
        p.name.clone()
    };
    let labels = SliceLabels {
        xdesc,
        ydesc: vaxis.desc(&f.metric),
        names,
        thin: pts.len() > THIN_ABOVE,
        cut_note: vaxis.note(f.direction, &f.metric),
    };
    match (xlog, ylog) {
        (true, true) => slice_on(&pts, &labels, (xa..xb).log_scale(), (ya..yb).log_scale()),
        (true, false) => slice_on(
            &pts,
            &labels,
            (xa..xb).log_scale(),
            RangedCoordf64::from(ya..yb),
        ),
        (false, true) => slice_on(
            &pts,
            &labels,
            RangedCoordf64::from(xa..xb),
            (ya..yb).log_scale(),
        ),
        (false, false) => slice_on(
            &pts,
            &labels,
            RangedCoordf64::from(xa..xb),
            RangedCoordf64::from(ya..yb),
        ),
    }
}

struct SliceLabels {
    xdesc: String,
    ydesc: String,
    /// Choice names, for a categorical axis.
    names: Option<Vec<String>>,
    /// Thin the dots to one per cell.
    thin: bool,
    /// The note for values beyond the cut.
    cut_note: Option<String>,
}

fn slice_on<X, Y>(pts: &[SlicePoint], labels: &SliceLabels, x: X, y: Y) -> Result<Drawn, PlotError>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut notes = Vec::new();
    let mut svg = String::new();
    {
        // Room above the axes for the notes, wrapped to the plot's width:
        // the thinning note (two lines at most) and the cut's.
        let n_lines = 2 * usize::from(labels.thin)
            + labels
                .cut_note
                .as_deref()
                .map_or(0, |n| wrap(n, NOTE_WIDTH).len());
        let top = 16 * n_lines as u32;
        let root = SVGBackend::with_string(&mut svg, (440, 320 + top)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_top(10 + top)
            .margin_right(18)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        let names = labels.names.clone();
        let xfmt = move |v: &f64| match &names {
            Some(names) => {
                let k = v.round();
                if (v - k).abs() < 1e-6 && k >= 0.0 {
                    names.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            None => fmt_sig(*v, 3),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(labels.xdesc.as_str())
            .y_desc(labels.ydesc.as_str())
            .x_label_formatter(&xfmt)
            .y_label_formatter(&tick)
            .x_labels(6)
            .y_labels(6)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .max_light_lines(1);
        if let Some(n) = &labels.names {
            // Ticks only at the choices.
            mesh.x_labels(n.len() * 2 + 1).disable_x_mesh();
        }
        mesh.draw().map_err(err)?;
        let keep: Vec<usize> = if labels.thin {
            let px: Vec<(i32, i32)> = pts
                .iter()
                .map(|p| chart.backend_coord(&(p.x, p.y)))
                .collect();
            one_per_cell(&px)
        } else {
            (0..pts.len()).collect()
        };
        if keep.len() < pts.len() {
            notes.push(thinned_note(
                keep.len(),
                pts.len(),
                &format!("one dot per {CELL}-pixel cell"),
            ));
        }
        notes.extend(labels.cut_note.clone());
        chart
            .draw_series(
                keep.iter()
                    .map(|&k| pts[k])
                    .filter(|p| !p.best && !p.beyond)
                    .map(|p| Circle::new((p.x, p.y), 3, p.colour.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(
                keep.iter()
                    .map(|&k| pts[k])
                    .filter(|p| !p.best && p.beyond)
                    .map(|p| TriangleMarker::new((p.x, p.y), 5, p.colour.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(
                pts.iter()
                    .filter(|p| p.best)
                    .map(|p| Circle::new((p.x, p.y), 6, BEST.stroke_width(2))),
            )
            .map_err(err)?;
        let lines: Vec<String> = notes.iter().flat_map(|n| wrap(n, NOTE_WIDTH)).collect();
        draw_notes(&root, &lines)?;
        root.present().map_err(err)?;
    }
    Ok(Drawn { svg, notes })
}

/// Characters a line of a slice plot's notes holds.
const NOTE_WIDTH: usize = 62;

/// `text` cut into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How many top trials the fold plot shows.
pub const FOLD_TRIALS: usize = 10;

/// Per-fold scores of the best trials (best on the left): each fold's score
/// a dot, the range a vertical line, the mean a short horizontal bar.
pub fn folds(f: &Folder) -> Result<String, PlotError> {
    let top: Vec<_> = f
        .ranked()
        .into_iter()
        .filter(|r| !r.folds.is_empty())
        .take(FOLD_TRIALS)
        .collect();
    let (lo, hi) =
        min_max(top.iter().flat_map(|r| r.folds.iter().copied())).ok_or("no fold scores")?;
    let (a, b) = padded(lo, hi, false);
    let n = top.len();
    let trials: Vec<u64> = top.iter().map(|r| r.trial).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), a..b)
            .map_err(err)?;
        let xfmt = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 {
                trials
                    .get(k as usize)
                    .map(|t| format!("#{t}"))
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("trial (best first)")
            .y_desc(format!("{} per fold", f.metric))
            .x_label_formatter(&xfmt)
            .y_label_formatter(&tick)
            .x_labels(2 * n + 1)
            .disable_x_mesh()
            .max_light_lines(1)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        let c = PALETTE[0];
        for (i, r) in top.iter().enumerate() {
            let x = i as f64;
            let (mn, mx) = min_max(r.folds.iter().copied()).unwrap_or((0.0, 0.0));
            let mean = super::fold_stats(&r.folds).map_or(0.0, |s| s.0);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, mn), (x, mx)],
                    c.stroke_width(1),
                )))
                .map_err(err)?;
            chart
                .draw_series(r.folds.iter().enumerate().map(|(j, &s)| {
                    // Folds side by side within the trial's slot.
                    let dx = (j as f64 + 0.5) / r.folds.len() as f64 * 0.4 - 0.2;
                    Circle::new((x + dx, s), 3, c.filled())
                }))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x - 0.3, mean), (x + 0.3, mean)],
                    BEST.stroke_width(2),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Parameter importance as horizontal bars, most important on top, with
/// the value printed beside each bar.
pub fn importance(names: &[String], values: &[f64]) -> Result<String, PlotError> {
    if names.is_empty() || names.len() != values.len() {
        return Err("no importance to draw".into());
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    // Most important first; equal values by name order (stable sort).
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let n = names.len();
    let height = (70 + 36 * n as u32).max(160);
    let label_w = names.iter().map(|s| s.chars().count()).max().unwrap_or(4) as u32 * 8 + 16;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (700, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(60)
            .x_label_area_size(40)
            .y_label_area_size(label_w.clamp(60, 240))
            .build_cartesian_2d(0.0..1.0, -0.5..(n as f64 - 0.5))
            .map_err(err)?;
        // Row i from the top holds order[i]: y = n - 1 - i.
        let yfmt = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
                names[order[n - 1 - k as usize]].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("importance (fANOVA, fraction of explained variance)")
            .y_label_formatter(&yfmt)
            .x_label_formatter(&|v| fmt_sig(*v, 2))
            .y_labels(2 * n + 1)
            .disable_y_mesh()
            .max_light_lines(1)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        for (i, &k) in order.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let v = values[k].clamp(0.0, 1.0);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.32), (v.max(0.002), y + 0.32)],
                    PALETTE[0].filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    fmt_sig(values[k], 3),
                    (v + 0.01, y),
                    TextStyle::from((FONT, 14))
                        .pos(Pos::new(HPos::Left, VPos::Center))
                        .color(&BLACK),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_ends_and_never_grey() {
        assert_eq!(ramp(0.0), RGBColor(68, 1, 84));
        assert_eq!(ramp(1.0), RGBColor(253, 231, 37));
        for i in 0..=100 {
            let RGBColor(r, g, b) = ramp(i as f64 / 100.0);
            assert!(!(r == g && g == b), "{i}");
        }
        assert_eq!(ramp(f64::NAN), ramp(0.0));
    }

    #[test]
    fn log_axis_only_for_wide_positive_ranges() {
        assert!(wants_log(0.5, 300.0));
        assert!(!wants_log(0.5, 30.0));
        assert!(!wants_log(-1.0, 300.0));
    }

    #[test]
    fn importance_bars_sorted_with_values() {
        let svg = importance(&["a".into(), "b".into()], &[0.25, 0.75]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        let (pa, pb) = (
            svg.find("\n0.25\n</text>").unwrap(),
            svg.find("\n0.75\n</text>").unwrap(),
        );
        // b is drawn first (top row), then a.
        assert!(pb < pa);
        assert!(importance(&[], &[]).is_err());
    }

    #[test]
    fn one_dot_per_cell_keeps_the_last_in_drawing_order() {
        // Cells are CELL = 4 pixels wide: (0, 0) and (3, 3) share one.
        let px = [(0, 0), (3, 3), (4, 0), (100, 100), (101, 102), (-1, 0)];
        assert_eq!(one_per_cell(&px), vec![1, 2, 4, 5]);
    }

    #[test]
    fn thousands_and_wrap() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("toolongword x", 4), vec!["toolongword", "x"]);
    }

    #[test]
    fn value_axis_cuts_only_far_worse_values() {
        // 20 accuracies near 0.95 and three at chance: maximised, so the
        // low ones are cut and the best is kept.
        let mut v: Vec<f64> = (0..20).map(|i| 0.93 + 0.002 * i as f64).collect();
        v.extend([0.33, 0.34, 0.5]);
        let a = value_axis(&v, Direction::Maximize).unwrap();
        assert_eq!(a.n_cut, 3);
        assert!(!a.log);
        assert_eq!((a.lo, a.hi), (0.93, 0.93 + 0.002 * 19.0));
        let c = a.cut.unwrap();
        assert!(c > 0.5 && c < 0.93, "{c}");
        // Drawn at the bottom edge, marked; the others where they are.
        let (bottom, _) = a.range();
        assert_eq!(a.place(0.33, Direction::Maximize), (bottom, true));
        assert_eq!(a.place(0.95, Direction::Maximize), (0.95, false));
        let note = a.note(Direction::Maximize, "accuracy").unwrap();
        assert!(
            note.starts_with("3 trials with accuracy below 0."),
            "{note}"
        );
        // The same values minimised: the low values are the best, never cut.
        let m = value_axis(&v, Direction::Minimize).unwrap();
        assert_eq!((m.n_cut, m.lo), (0, 0.33));
        // No spread (all equal) or no outlier: nothing is cut.
        assert_eq!(
            value_axis(&[1.0; 5], Direction::Minimize).unwrap().cut,
            None
        );
        let even: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(value_axis(&even, Direction::Maximize).unwrap().n_cut, 0);
        assert_eq!(value_axis(&[f64::NAN], Direction::Maximize), None);
    }

    #[test]
    fn value_axis_fence_on_a_log_scale() {
        // Losses over four decades: a log axis, and on it nothing is far out.
        let v: Vec<f64> = (0..40).map(|i| 10f64.powf(i as f64 / 10.0)).collect();
        let a = value_axis(&v, Direction::Minimize).unwrap();
        assert!(a.log);
        assert_eq!(a.n_cut, 0);
    }
}
