//! A small SVG plot: mistake rate (log scale) against mean detection time, one curve per family.

use std::fmt::Write;

/// One curve: a name and its `(x, y)` points, drawn in order.
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Renders the curves. Points with a non-finite coordinate are left out; rates below
/// `y_floor` are drawn at it (the log axis cannot show zero).
pub fn svg(title: &str, x_label: &str, y_label: &str, curves: &[Curve], y_floor: f64) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 480.0, 70.0, 170.0, 40.0, 50.0);
    let finite: Vec<(f64, f64)> = curves
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (x, y.max(y_floor)))
        .collect();
    // The x range ends a little past where the slowest curve first reaches the floor (no
    // mistakes): beyond it every curve only gets slower, and huge knob values would squash
    // the interesting part.
    let reach = curves
        .iter()
        .filter_map(|c| {
            c.points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && *y <= y_floor)
                .map(|p| p.0)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
        })
        .fold(0.0f64, f64::max);
    let widest = finite.iter().map(|p| p.0).fold(0.0f64, f64::max);
    let x_max = if reach > 0.0 {
        (reach * 1.5).min(widest)
    } else {
        widest
    }
    .max(1e-3)
        * 1.05;
    let finite: Vec<(f64, f64)> = finite.into_iter().filter(|p| p.0 <= x_max).collect();
    let (y_lo, y_hi) = finite
        .iter()
        .fold((y_floor, y_floor * 10.0), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (ly_lo, ly_hi) = (
        y_lo.log10().floor(),
        y_hi.log10().ceil().max(y_lo.log10().floor() + 1.0),
    );
    let px = |x: f64| left + (w - left - right) * x / x_max;
    let py = |y: f64| {
        top + (h - top - bottom) * (1.0 - (y.max(y_floor).log10() - ly_lo) / (ly_hi - ly_lo))
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        (left + w - right) / 2.0,
        escape(title)
    );
    // Axes, grid and tick labels.
    let (x0, x1, y0, y1) = (left, w - right, h - bottom, top);
    let _ = writeln!(
        s,
        r#"<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" stroke="black" fill="none"/>"#
    );
    let mut e = ly_lo;
    while e <= ly_hi + 1e-9 {
        let y = py(10f64.powf(e));
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">1e{}</text>"##,
            x0 - 6.0,
            y + 4.0,
            e as i64
        );
        e += 1.0;
    }
    for i in 0..=5 {
        let xv = x_max * i as f64 / 5.0;
        let x = px(xv);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{xv:.3}</text>"##,
            y0 + 16.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        h - 10.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (y0 + y1) / 2.0,
        escape(y_label)
    );
    for (i, c) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = c
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x <= x_max)
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        if !pts.is_empty() {
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
                pts.join(" ")
            );
            for p in &pts {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="2.2" fill="{colour}"/>"#);
            }
        }
        let ly = top + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="14" height="3" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
            w - right + 12.0,
            ly + 6.0,
            w - right + 32.0,
            ly + 11.0,
            escape(&c.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
