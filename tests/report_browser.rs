//! The HTML report in a real browser: headless Chromium opens it and every
//! plot must have rendered with data.
//!
//! Two independent checks per plot (`<figure class="plot">`):
//!
//! 1. DOM: a copy of the report gets a probe script that, once Chromium has
//!    laid the page out, writes each plot's box and the number of drawn
//!    shapes with a non-grey colour (data marks: plots draw data in colour,
//!    axes and labels in greys) into the page; `--dump-dom` gives it back.
//! 2. Pixels: a screenshot of the whole page; inside each plot's box there
//!    must be coloured pixels.
//!
//! A plot with axes but no data fails both (`an_empty_plot_fails_the_check`
//! proves it). Chromium: Debian's `chromium` package (`.ci/run` installs
//! it); set `CHROMIUM` to use another binary. Without one the tests say
//! they were skipped and pass, unless `HPSEARCH_REQUIRE_BROWSER=1` (set by
//! `.ci/run`) makes a missing browser a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Sandbox;

/// The Chromium binary, or `None` (the test then says it was skipped)
/// when there is none and `HPSEARCH_REQUIRE_BROWSER=1` does not demand one.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var("CHROMIUM")
        .ok()
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.exists());
    common::system_tool(
        found,
        "HPSEARCH_REQUIRE_BROWSER",
        "headless Chromium (looked for $CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser); \
         install it with `apt-get update && apt-get install -y chromium` (Debian; .ci/run does this)",
    )
}

/// Run Chromium headless on `page` with `args`; its stdout.
fn browse(chromium: &Path, page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Counts, for every plot, the visible shapes drawn in a colour (not grey,
/// black or white), and the plot's box in page coordinates.
const PROBE: &str = r#"<script>
(function () {
  function coloured(c) {
    var m = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(c || "");
    if (!m) return false;
    if (m[4] !== undefined && parseFloat(m[4]) === 0) return false;
    return !(m[1] === m[2] && m[2] === m[3]);
  }
  var lines = [];
  document.querySelectorAll("figure.plot").forEach(function (f) {
    var svg = f.querySelector("svg");
    var r = svg ? svg.getBoundingClientRect() : { left: 0, top: 0, width: 0, height: 0 };
    var marks = 0;
    if (svg) svg.querySelectorAll("circle,rect,path,polyline,polygon,line,ellipse").forEach(function (e) {
      var b = e.getBBox();
      var s = getComputedStyle(e);
      if (b.width + b.height <= 0 || parseFloat(s.opacity) === 0 || s.visibility === "hidden") return;
      if (coloured(s.fill) || coloured(s.stroke)) marks++;
    });
    lines.push([f.dataset.plot, f.dataset.search, Math.round(r.left + window.scrollX),
      Math.round(r.top + window.scrollY), Math.round(r.width), Math.round(r.height), marks].join("|"));
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = "PROBE-BEGIN\n" + lines.join("\n") + "\nPROBE-END " +
    document.documentElement.scrollWidth + " " + document.documentElement.scrollHeight + "\n";
  document.body.appendChild(pre);
})();
</script>"#;

/// The browser window's width, in CSS pixels (= screenshot pixels).
const WIDTH: u32 = 1280;

/// One plot as the browser laid it out.
#[derive(Debug)]
struct Probe {
    kind: String,
    search: String,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    marks: u32,
    /// Coloured pixels inside its box on the screenshot.
    pixels: u32,
}

fn parse_probe(dom: &str) -> (Vec<Probe>, u32, u32) {
    // The probe's output, not the script's own text (which is in the DOM
    // too, before it): the output is the last of each marker.
    let start = dom.rfind("PROBE-BEGIN\n").expect("the probe did not run");
    let body = &dom[start..];
    let end = body.rfind("PROBE-END ").expect("probe end");
    let size: Vec<u32> = body[end + 9..]
        .split_whitespace()
        .take(2)
        .map(|s| {
            s.trim_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap()
        })
        .collect();
    let probes = body[11..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let n = |i: usize| f[i].parse::<f64>().unwrap().max(0.0) as u32;
            Probe {
                kind: f[0].to_string(),
                search: f[1].to_string(),
                x: n(2),
                y: n(3),
                w: n(4),
                h: n(5),
                marks: n(6),
                pixels: 0,
            }
        })
        .collect();
    (probes, size[0], size[1])
}

/// Open `report` in Chromium: lay it out with the probe, then screenshot
/// the whole page and count coloured pixels in each plot's box.
fn render(chromium: &Path, report: &Path) -> Vec<Probe> {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(report).unwrap();
    let probed = dir.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    // Both runs lay the page out at the same width, so the boxes the
    // probe measured are where the screenshot has the plots.
    let dom = browse(
        chromium,
        &probed,
        &[
            &format!("--window-size={WIDTH},1000"),
            "--virtual-time-budget=5000",
            "--dump-dom",
        ],
    );
    let (mut probes, _width, height) = parse_probe(&dom);
    let shot = dir.path().join("shot.png");
    browse(
        chromium,
        report,
        &[
            &format!("--window-size={WIDTH},{}", height.max(600)),
            &format!("--screenshot={}", shot.display()),
        ],
    );
    if let Ok(keep) = std::env::var("HPSEARCH_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let (iw, ih) = (info.width, info.height);
    for p in &mut probes {
        let mut n = 0;
        for y in p.y..(p.y + p.h).min(ih) {
            for x in p.x..(p.x + p.w).min(iw) {
                let i = (y as usize * iw as usize + x as usize) * channels;
                let (r, g, b) = (buf[i] as i32, buf[i + 1] as i32, buf[i + 2] as i32);
                if r.max(g).max(b) - r.min(g).min(b) > 40 {
                    n += 1;
                }
            }
        }
        p.pixels = n;
    }
    probes
}

/// Every plot rendered, with a visible size, data marks and coloured
/// pixels; the error names each plot that did not.
fn check(probes: &[Probe]) -> Result<(), String> {
    let bad: Vec<String> = probes
        .iter()
        .filter(|p| p.w < 100 || p.h < 100 || p.marks == 0 || p.pixels < 20)
        .map(|p| {
            format!(
                "{} plot of {} is empty or not rendered: {p:?}",
                p.kind, p.search
            )
        })
        .collect();
    if probes.is_empty() {
        return Err("no plot at all".into());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

fn report_of_two_searches() -> (Sandbox, PathBuf) {
    let sb = common::two_searches();
    sb.run(&["report", "results/a", "results/b", "--out", "report.html"])
        .expect_code(0);
    let p = sb.path().join("report.html");
    (sb, p)
}

#[test]
fn every_plot_renders_with_data_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let (_sb, report) = report_of_two_searches();
    let probes = render(&chromium, &report);
    let kinds: Vec<&str> = probes.iter().map(|p| p.kind.as_str()).collect();
    // history, then per search: importance, parallel, 3 slices, folds.
    assert_eq!(probes.len(), 1 + 2 * 6, "{kinds:?}");
    for k in ["history", "importance", "parallel", "slice", "folds"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    if let Err(e) = check(&probes) {
        panic!("{e}");
    }
}

#[test]
fn an_empty_plot_fails_the_check() {
    let Some(chromium) = chromium() else { return };
    let (sb, report) = report_of_two_searches();
    // Axes and a frame in greys, no data: what an empty plot looks like.
    let empty = "<figure class=\"plot\" data-plot=\"slice\" data-search=\"empty\">\
        <svg width=\"400\" height=\"300\" viewBox=\"0 0 400 300\" xmlns=\"http://www.w3.org/2000/svg\">\
        <rect x=\"0\" y=\"0\" width=\"400\" height=\"300\" fill=\"#FFFFFF\"/>\
        <line x1=\"40\" y1=\"260\" x2=\"380\" y2=\"260\" stroke=\"#000000\"/>\
        <line x1=\"40\" y1=\"20\" x2=\"40\" y2=\"260\" stroke=\"#000000\"/>\
        <text x=\"200\" y=\"290\">x</text></svg></figure>";
    let html = std::fs::read_to_string(&report).unwrap();
    let broken = sb.path().join("broken.html");
    std::fs::write(
        &broken,
        html.replace(
            "<h2>Optimisation history</h2>",
            &format!("<h2>Optimisation history</h2>{empty}"),
        ),
    )
    .unwrap();
    let probes = render(&chromium, &broken);
    let e = check(&probes).expect_err("an empty plot passed the check");
    assert!(e.contains("slice plot of empty"), "{e}");
    // Only the empty one is reported.
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn intermediate_value_curves_render_with_data_in_chromium() {
    let Some(chromium) = chromium() else { return };
    // A maximised search whose later trials the median pruner stops.
    let sb = Sandbox::new();
    sb.write(
        "curve.sh",
        "awk -v a=\"$HPSEARCH_PARAM_A\" 'BEGIN { \
         for (t = 0; t < 5; t++) printf \"{\\\"step\\\": %d, \\\"value\\\": %.4f}\\n\", t, a + 1 / (t + 1); \
         printf \"{\\\"value\\\": %.4f}\\n\", a + 0.2 }'\n",
    );
    sb.write(
        "p.toml",
        "[search]\nstrategy = \"grid\"\nparallel = 1\n[search.pruner]\nkind = \"median\"\n\
         n_startup_trials = 2\n[objective]\ncommand = [\"sh\", \"curve.sh\"]\ndirection = \"maximize\"\n\
         inputs = [\"curve.sh\"]\n[space]\na = { type = \"float\", values = [1.0, 0.9, 0.8, 0.7, 0.6] }\n",
    );
    sb.run(&["run", "p.toml", "--out", "p", "-q"])
        .expect_code(0);
    sb.run(&["report", "p", "--out", "report.html"])
        .expect_code(0);
    let probes = render(&chromium, &sb.path().join("report.html"));
    let kinds: Vec<&str> = probes.iter().map(|p| p.kind.as_str()).collect();
    assert!(kinds.contains(&"curves"), "{kinds:?}");
    if let Err(e) = check(&probes) {
        panic!("{e}");
    }
}
