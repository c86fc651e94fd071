//! `hpsearch report`: one self-contained HTML file (inline CSS and SVG, no
//! script, no font or anything else fetched) with the searches' facts,
//! a comparison when there are several, and plots: the optimisation
//! history of every search overlaid, then for each search its parameter
//! importance, parallel coordinates, one slice per parameter and the fold
//! spread of its top trials.
//!
//! Every plot is a `<figure class="plot" data-plot="KIND">` holding one
//! `<svg>`; tests/report_browser.rs opens the file in headless Chromium and
//! checks that each of them rendered with data. The file is a pure
//! function of the folders: the same folders give the same bytes.
//!
//! Its size and time are bounded whatever the number of trials: the plots
//! thin what they draw past `plot::THIN_ABOVE` trials and say so, and
//! the importance forest sees at most `importance::MAX_ROWS` trials
//! (docs/inspect.md, "Large searches and outliers").

use std::fmt::Write;
use std::path::Path;

use super::{compare, importance, plot, show, Folder, InspectError};

/// Escape text for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}\
h1{font-size:24px}h2{font-size:20px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}\
h3{font-size:16px;margin-top:24px}table{border-collapse:collapse;font-size:13px;margin:8px 0}\
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}\
td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px}\
figure.plot{margin:8px 0;display:table}figure.plot svg{display:block}\
figcaption{display:table-caption;caption-side:bottom;font-size:12px;color:#555}.slices{display:flex;flex-wrap:wrap;gap:8px}\
p.note{color:#555;font-size:13px}";

/// The importance of each parameter of `f` (see `importance::fanova`,
/// fitted to at most `importance::MAX_ROWS` of the successful trials, an
/// even spread by rank); `None` when it cannot be computed.
pub(crate) fn importances(f: &Folder) -> Option<Vec<f64>> {
    let ok: Vec<_> = f.ranked();
    let x: Vec<Vec<f64>> = ok.iter().map(|r| f.unit_of(r)).collect();
    let y: Vec<f64> = ok.iter().filter_map(|r| r.value).collect();
    importance::fanova(&x, &y)
}

fn figure(out: &mut String, kind: &str, search: &str, svg: &str, caption: &str) {
    let _ = writeln!(
        out,
        "<figure class=\"plot\" data-plot=\"{kind}\" data-search=\"{}\">{svg}<figcaption>{caption}</figcaption></figure>",
        esc(search)
    );
}

/// A plot with its notes after the caption, or a note saying why there is
/// none.
fn figure_or_note(
    out: &mut String,
    kind: &str,
    search: &str,
    drawn: Result<plot::Drawn, plot::PlotError>,
    caption: &str,
) {
    match drawn {
        Ok(d) => {
            let mut caption = caption.to_string();
            for n in &d.notes {
                caption.push(' ');
                caption.push_str(&esc(n));
            }
            figure(out, kind, search, &d.svg, &caption)
        }
        Err(e) => {
            let _ = writeln!(out, "<p class=\"note\">No {kind} plot: {}.</p>", esc(&e));
        }
    }
}

/// The sentence saying the forest saw a spread of the trials, when it did.
fn importance_note(f: &Folder) -> String {
    let n = f.rows.iter().filter(|r| super::is_ok(r)).count();
    if n <= importance::MAX_ROWS {
        return String::new();
    }
    format!(
        " Fitted to {} of {} successful trials, an even spread by rank.",
        plot::thousands(importance::MAX_ROWS),
        plot::thousands(n)
    )
}

/// A plot that has no notes.
fn plain(svg: Result<String, plot::PlotError>) -> Result<plot::Drawn, plot::PlotError> {
    svg.map(|svg| plot::Drawn {
        svg,
        notes: Vec::new(),
    })
}

fn facts_table(out: &mut String, folders: &[Folder]) {
    let sums: Vec<show::Summary> = folders.iter().map(|f| show::summary(f, 1)).collect();
    out.push_str("<table><tr><th></th>");
    for s in &sums {
        let _ = write!(out, "<th>{}</th>", esc(&s.dir));
    }
    out.push_str("</tr>\n");
    let mut row = |label: &str, f: &dyn Fn(&show::Summary) -> String| {
        let _ = write!(out, "<tr><th>{}</th>", esc(label));
        for s in &sums {
            let _ = write!(out, "<td>{}</td>", f(s));
        }
        out.push_str("</tr>\n");
    };
    row("search file", &|s| esc(&s.search_file));
    row("strategy", &|s| {
        let kv: Vec<String> = s
            .strategy_settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if kv.is_empty() {
            esc(&s.strategy)
        } else {
            format!(
                "{} <code>({})</code>",
                esc(&s.strategy),
                esc(&kv.join(", "))
            )
        }
    });
    row("objective", &|s| {
        esc(&format!("{} {}", s.direction, s.objective))
    });
    row("seed", &|s| {
        s.seed.map(|x| x.to_string()).unwrap_or_default()
    });
    row("trials", &|s| esc(&show::trials_line(s)));
    row("root hash", &|s| {
        format!("<code>{}</code>", esc(&s.root_hash))
    });
    row("data", &|s| {
        s.data
            .iter()
            .map(|d| format!("{}<br><code>sha256 {}</code>", esc(&d.path), esc(&d.sha256)))
            .collect::<Vec<_>>()
            .join("<br>")
    });
    row("hpsearch", &|s| esc(&s.hpsearch_version));
    row("started / finished", &|s| {
        esc(&format!(
            "{} / {}",
            s.started,
            s.finished.as_deref().unwrap_or("-")
        ))
    });
    row("best", &|s| match &s.best {
        None => "no trial succeeded".into(),
        Some(b) => {
            let mut t = format!(
                "trial {}: {} = {}",
                b.trial,
                esc(&s.metric),
                b.value.map(crate::value::fmt_f64).unwrap_or_default()
            );
            // An empty cell is a conditional parameter left inactive.
            for (k, v) in b.params.iter().filter(|(_, v)| v.as_str() != Some("")) {
                let _ = write!(t, "<br>{} = {}", esc(k), esc(&v.to_string()));
            }
            if let (Some(m), Some(sd)) = (b.fold_mean, b.fold_std) {
                let _ = write!(
                    t,
                    "<br>folds: mean {} ± {}",
                    super::fmt_sig(m, 6),
                    super::fmt_sig(sd, 4)
                );
            }
            t
        }
    });
    out.push_str("</table>\n");
}

/// An HTML table of `rows`: the first row is the header, the first cell
/// of every other row its label.
fn html_table(out: &mut String, rows: &[Vec<String>]) {
    out.push_str("<table>");
    for (i, r) in rows.iter().enumerate() {
        out.push_str("<tr>");
        for (k, cell) in r.iter().enumerate() {
            let tag = if i == 0 || k == 0 { "th" } else { "td" };
            let _ = write!(out, "<{tag}>{}</{tag}>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn compare_table(out: &mut String, folders: &[Folder], names: &[String]) {
    let c = compare::compare(folders);
    out.push_str("<h2>Comparison</h2>\n");
    let mut rows = compare::table(&c);
    // The short names the rest of the report uses.
    if let Some(head) = rows.first_mut() {
        for (cell, n) in head.iter_mut().skip(1).zip(names) {
            cell.clone_from(n);
        }
    }
    html_table(out, &rows);
    if c.differences.is_empty() {
        out.push_str("<p class=\"note\">The resolved searches are identical.</p>\n");
        return;
    }
    out.push_str("<h3>The resolved searches differ in</h3>\n");
    out.push_str("<table><tr><th>setting</th>");
    for n in names {
        let _ = write!(out, "<th>{}</th>", esc(n));
    }
    out.push_str("</tr>\n");
    for d in compare::differences(&c, false) {
        let cells = d.cells();
        let _ = write!(out, "<tr><th>{}</th>", esc(&cells[0]));
        match d {
            compare::Difference::Key(..) => {
                for v in &cells[1..] {
                    let _ = write!(out, "<td>{}</td>", esc(v));
                }
            }
            // A summary spans the searches' columns.
            compare::Difference::Space { .. } => {
                let _ = write!(
                    out,
                    "<td colspan=\"{}\">{}</td>",
                    names.len(),
                    esc(&d.summary_in_full().unwrap_or_default())
                );
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn top_table(out: &mut String, f: &Folder) {
    let s = show::summary(f, 10);
    if s.top.is_empty() {
        return;
    }
    out.push_str("<table><tr><th>rank</th><th>trial</th>");
    let _ = write!(out, "<th>{}</th>", esc(&f.metric));
    let folds = s.top.iter().any(|t| t.fold_mean.is_some());
    if folds {
        out.push_str("<th>fold mean ± std</th>");
    }
    for p in &f.params {
        let _ = write!(out, "<th>{}</th>", esc(&p.name));
    }
    out.push_str("</tr>\n");
    for t in &s.top {
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            t.rank,
            t.trial,
            t.value.map(|v| super::fmt_sig(v, 6)).unwrap_or_default()
        );
        if folds {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                match (t.fold_mean, t.fold_std) {
                    (Some(m), Some(sd)) =>
                        format!("{} ± {}", super::fmt_sig(m, 6), super::fmt_sig(sd, 3)),
                    _ => String::new(),
                }
            );
        }
        for p in &f.params {
            let v = match t.params.get(&p.name) {
                Some(crate::value::Value::Float(x)) => super::fmt_sig(*x, 6),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            let _ = write!(out, "<td>{}</td>", esc(&v));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Names for the searches: the folders' last components, or the whole
/// paths when two last components are equal.
fn names(folders: &[Folder]) -> Vec<String> {
    let short: Vec<String> = folders.iter().map(Folder::name).collect();
    let unique = short
        .iter()
        .enumerate()
        .all(|(i, a)| short.iter().skip(i + 1).all(|b| a != b));
    if unique {
        short
    } else {
        folders
            .iter()
            .map(|f| f.dir.display().to_string())
            .collect()
    }
}

/// The report for `folders` as HTML text.
pub fn render(folders: &[Folder]) -> String {
    let names = names(folders);
    let mut out = String::new();
    let title = format!("hpsearch report: {}", names.join(", "));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    out.push_str("<p class=\"note\">Written by hpsearch from the results folders alone; the same folders give this file byte for byte.</p>\n");
    facts_table(&mut out, folders);
    if folders.len() > 1 {
        compare_table(&mut out, folders, &names);
    }
    out.push_str("<h2>Optimisation history</h2>\n");
    let series: Vec<plot::History<'_>> = folders
        .iter()
        .zip(&names)
        .map(|(f, n)| plot::History {
            name: n.clone(),
            folder: f,
        })
        .collect();
    let metric = folders
        .first()
        .map_or("value".to_string(), |f| f.metric.clone());
    figure_or_note(
        &mut out,
        "history",
        "all",
        plot::history(&series, &metric),
        "Each dot is a successful trial (value against trial number); the line is the best value so far, one colour a search.",
    );
    for (f, name) in folders.iter().zip(&names) {
        let _ = writeln!(out, "<h2>{}</h2>", esc(name));
        out.push_str("<h3>Parameter importance</h3>\n");
        match importances(f) {
            Some(imp) => {
                let pnames: Vec<String> = f.params.iter().map(|p| p.name.clone()).collect();
                figure_or_note(
                    &mut out,
                    "importance",
                    name,
                    plain(plot::importance(&pnames, &imp)),
                    &format!(
                        "fANOVA on a random forest fitted to the successful trials (parameters in the unit cube, log parameters on their log scale): \
                         each parameter's share of the variance its main effect explains, averaged over 64 trees and normalised to sum to 1 \
                         (the method of Hutter et al. 2014, as Optuna's default). Interactions are not attributed.{}",
                        importance_note(f)
                    ),
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">No importance: it needs at least {} successful trials with different values.</p>",
                    importance::MIN_TRIALS
                );
            }
        }
        out.push_str("<h3>Parallel coordinates</h3>\n");
        figure_or_note(
            &mut out,
            "parallel",
            name,
            plot::parallel(f),
            "One line per successful trial through its parameters and its value; yellow is best, purple worst, the thick line the best trial.",
        );
        out.push_str("<h3>Slices</h3>\n<div class=\"slices\">\n");
        for k in 0..f.params.len() {
            figure_or_note(
                &mut out,
                "slice",
                name,
                plot::slice(f, k),
                &format!(
                    "{}: value against the parameter; colour is the trial number (purple early, yellow late), the red ring the best trial.",
                    esc(&f.params[k].name)
                ),
            );
        }
        out.push_str("</div>\n");
        if f.n_folds > 0 {
            out.push_str("<h3>Fold scores of the top trials</h3>\n");
            figure_or_note(
                &mut out,
                "folds",
                name,
                plain(plot::folds(f)),
                "Each dot a fold's score, the vertical line their range, the red bar their mean (the trial's value).",
            );
        }
        if f.pruner {
            out.push_str("<h3>Intermediate values</h3>\n");
            figure_or_note(
                &mut out,
                "curves",
                name,
                plot::curves(f),
                &format!(
                    "One line per trial that reported intermediate values (value against step): complete trials in blue, \
                     the best in red, the {} pruned trials thin and orange with a cross at the step the pruner stopped them.",
                    f.n_pruned()
                ),
            );
        }
        out.push_str("<h3>Top trials</h3>\n");
        top_table(&mut out, f);
    }
    out.push_str("</body></html>\n");
    out
}

/// Write the report for `folders` to `out` (through a temporary file and a
/// rename, so a reader never sees half a report).
pub fn write(folders: &[Folder], out: &Path) -> Result<(), InspectError> {
    let html = render(folders);
    crate::journal::write_atomic(out, html.as_bytes()).map_err(|e| InspectError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests::{write_folder, BRANIN_SEARCH};

    fn folder(dir: &Path, n: usize) -> Folder {
        let rows: Vec<Vec<String>> = (0..n)
            .map(|i| {
                let x = 0.001 * 1.3f64.powi(i as i32);
                let c = if i % 3 == 0 { "a" } else { "b" };
                let v = (x.ln() - 1.0).powi(2) + if c == "a" { 0.0 } else { 0.1 };
                vec![
                    "ok".into(),
                    crate::value::fmt_f64(v),
                    c.into(),
                    crate::value::fmt_f64(x),
                ]
            })
            .collect();
        write_folder(dir, BRANIN_SEARCH, &["c", "x"], &rows, true);
        crate::inspect::open(dir).unwrap()
    }

    #[test]
    fn report_has_every_plot_and_no_outside_reference() {
        let d = tempfile::tempdir().unwrap();
        let f = folder(&d.path().join("s"), 30);
        let html = render(&[f]);
        let count = |k: &str| html.matches(&format!("data-plot=\"{k}\"")).count();
        assert_eq!(count("history"), 1);
        assert_eq!(count("importance"), 1);
        assert_eq!(count("parallel"), 1);
        assert_eq!(count("slice"), 2);
        // A function: no folds, so no fold plot.
        assert_eq!(count("folds"), 0);
        // The SVG namespace is a name, not an address anything is fetched from.
        let html = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for banned in [
            "<script", "http://", "https://", "<link", "@import", "url(", "src=",
        ] {
            assert!(!html.contains(banned), "{banned}");
        }
        // x is log: its slice says so.
        assert!(html.contains("x (log scale)"));
    }

    #[test]
    fn report_is_byte_identical_twice() {
        let d = tempfile::tempdir().unwrap();
        let a = folder(&d.path().join("a"), 25);
        let b = folder(&d.path().join("b"), 12);
        let one = render(&[a, b]);
        let a = crate::inspect::open(&d.path().join("a")).unwrap();
        let b = crate::inspect::open(&d.path().join("b")).unwrap();
        assert_eq!(one, render(&[a, b]));
        assert!(one.contains("<h2>Comparison</h2>"));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
