//! Charts for the console, drawn on the server as SVG with `plotters`.
//!
//! The pages ship no charting JavaScript (and the CSP forbids inline script anyway), so charts arrive as
//! inline SVG that scales to the column width. Every chart also carries the same numbers as a table for
//! screen readers, and a caption, because a picture alone is not accessible.

use plotters::prelude::*;
use serde::Serialize;

/// Drawing size in SVG user units; the SVG scales to its container, this fixes the aspect ratio and the
/// relative size of the labels.
const WIDTH: u32 = 720;
const HEIGHT: u32 = 220;

/// A chart ready for a template: the SVG and the accessible table of the same data.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// A sentence that says what the chart shows.
    pub caption: String,
    /// The SVG markup (generated here from numbers and fixed labels only; safe to insert unescaped).
    pub svg: String,
    /// Column headings of the data table.
    pub columns: [String; 2],
    /// The data, as strings, for the table.
    pub rows: Vec<[String; 2]>,
}

/// Makes the fixed-size SVG that plotters writes scale with the page, and labels it for assistive technology.
fn responsive(svg: String, caption: &str) -> String {
    let label = caption
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    svg.replacen(
        &format!("<svg width=\"{WIDTH}\" height=\"{HEIGHT}\""),
        &format!("<svg class=\"plot\" role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMidYMid meet\""),
        1,
    )
}

fn style_text(size: u32) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&RGBColor(90, 90, 90))
}

/// A bar chart of labelled values (e.g. submissions per hour). Bars are drawn in order; with many bars, only
/// every n-th label is printed.
pub fn bar_chart(caption: &str, columns: [&str; 2], bars: &[(String, f64)]) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let top = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1.0) * 1.1;
        let n = bars.len().max(1);
        let step = n.div_ceil(12);
        let drawn = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)
            .and_then(|mut chart| {
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(RGBColor(225, 225, 225))
                    .y_labels(5)
                    .x_labels(n.min(12) + 1)
                    .x_label_formatter(&|x| {
                        let i = x.floor() as usize;
                        if (*x - x.floor()).abs() < 1e-9 && i < bars.len() && i.is_multiple_of(step)
                        {
                            bars[i].0.clone()
                        } else {
                            String::new()
                        }
                    })
                    .y_label_formatter(&|y| compact(*y))
                    .label_style(style_text(13))
                    .draw()?;
                chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                    Rectangle::new(
                        [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, *v)],
                        RGBColor(47, 111, 235).filled(),
                    )
                }))?;
                Ok(())
            });
        if drawn.is_err() {
            tracing::warn!(caption, "chart failed to draw");
        }
        let _ = root.present();
    }
    Chart {
        caption: caption.to_string(),
        svg: responsive(svg, caption),
        columns: [columns[0].to_string(), columns[1].to_string()],
        rows: bars.iter().map(|(l, v)| [l.clone(), compact(*v)]).collect(),
    }
}

/// A line chart of (x, y) points, with `x_label` formatting the x axis and the table.
pub fn line_chart(
    caption: &str,
    columns: [&str; 2],
    points: &[(f64, f64)],
    x_label: &dyn Fn(f64) -> String,
) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let (x0, x1) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (x0, x1) = if points.is_empty() {
            (0.0, 1.0)
        } else if x1 <= x0 {
            (x0 - 1.0, x1 + 1.0)
        } else {
            (x0, x1)
        };
        let top = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1.0) * 1.1;
        let drawn = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..top)
            .and_then(|mut chart| {
                chart
                    .configure_mesh()
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(RGBColor(225, 225, 225))
                    .y_labels(5)
                    .x_labels(6)
                    .x_label_formatter(&|x| x_label(*x))
                    .y_label_formatter(&|y| compact(*y))
                    .label_style(style_text(13))
                    .draw()?;
                let blue = RGBColor(47, 111, 235);
                chart.draw_series(LineSeries::new(
                    points.iter().copied(),
                    blue.stroke_width(2),
                ))?;
                chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, blue.filled())))?;
                Ok(())
            });
        if drawn.is_err() {
            tracing::warn!(caption, "chart failed to draw");
        }
        let _ = root.present();
    }
    Chart {
        caption: caption.to_string(),
        svg: responsive(svg, caption),
        columns: [columns[0].to_string(), columns[1].to_string()],
        rows: points
            .iter()
            .map(|(x, y)| [x_label(*x), compact(*y)])
            .collect(),
    }
}

/// 1234 → "1.2k", 12.5 → "12.5": short axis labels.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_scalable_labelled_svg_with_a_bar_per_value_and_its_table() {
        let bars: Vec<(String, f64)> = (0..5)
            .map(|h| (format!("{h:02}h"), (h * 10) as f64))
            .collect();
        let c = bar_chart(
            "Submissions per hour <test>",
            ["Hour", "Submissions"],
            &bars,
        );
        assert!(
            c.svg.starts_with(
                "<svg class=\"plot\" role=\"img\" aria-label=\"Submissions per hour &lt;test>\""
            ),
            "{}",
            &c.svg[..200]
        );
        assert!(!c.svg.contains("<script"));
        // One filled rectangle per non-empty bar (plus the background).
        let filled = c.svg.matches("fill=\"#2F6FEB\"").count();
        assert!(filled >= 4, "{filled} bars in {}", c.svg);
        assert_eq!(c.rows[4], ["04h".to_string(), "40".to_string()]);
    }

    #[test]
    fn a_line_chart_survives_no_points_and_one_point() {
        let none = line_chart("Empty", ["x", "y"], &[], &|x| format!("{x}"));
        assert!(none.svg.contains("<svg") && none.rows.is_empty());
        let one = line_chart("One", ["x", "y"], &[(3.0, 2.5)], &|x| format!("{x:.0}"));
        assert_eq!(one.rows, vec![["3".to_string(), "2.5".to_string()]]);
        assert!(
            one.svg.contains("<circle")
                || one.svg.contains("<path")
                || one.svg.contains("<polyline")
        );
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(1234.0), "1.2k");
        assert_eq!(compact(45_000.0), "45k");
        assert_eq!(compact(2_500_000.0), "2.5M");
        assert_eq!(compact(12.25), "12.2");
    }
}
