//! Pictures drawn in code, for the demo: a street scene with cars and people at known places, so the demo's
//! image project has real PNG files in the MediaStore and answers whose boxes sit on the objects they name,
//! without shipping or downloading a photo.

use std::io::Cursor;

/// An object drawn into a scene: its label and its box, normalized to the picture (0..1).
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnObject {
    /// `car` or `person`.
    pub label: &'static str,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

fn fill(img: &mut image::RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]) {
    for y in y0.min(img.height())..y1.min(img.height()) {
        for x in x0.min(img.width())..x1.min(img.width()) {
            img.put_pixel(x, y, image::Rgb(c));
        }
    }
}

/// A `width`×`height` PNG of a street (sky, buildings, road) with a few cars and people placed by `seed`
/// (the same seed draws the same bytes), and where each object is.
pub fn street_scene(seed: u32, width: u32, height: u32) -> (Vec<u8>, Vec<DrawnObject>) {
    let (w, h) = (width.max(64), height.max(48));
    let mut img = image::RgbImage::new(w, h);
    let horizon = h * 11 / 20;
    // Sky fading to the horizon, buildings, a road with a centre line.
    for y in 0..horizon {
        let t = y * 120 / horizon.max(1);
        fill(
            &mut img,
            0,
            y,
            w,
            y + 1,
            [(110 + t / 2) as u8, (160 + t / 3) as u8, 230],
        );
    }
    let mut rng = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut next = move |n: u32| {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng % n.max(1)
    };
    let mut x = 0;
    while x < w {
        let bw = w / 10 + next(w / 8);
        let bh = horizon / 3 + next(horizon / 2);
        let shade = 90 + next(60) as u8;
        fill(
            &mut img,
            x,
            horizon - bh.min(horizon),
            x + bw,
            horizon,
            [shade, shade - 10, shade - 25],
        );
        x += bw + 2;
    }
    fill(&mut img, 0, horizon, w, h, [70, 72, 78]);
    let mid = horizon + (h - horizon) / 2;
    let mut x = 0;
    while x < w {
        fill(
            &mut img,
            x,
            mid,
            x + w / 20,
            mid + (h / 120).max(2),
            [235, 220, 120],
        );
        x += w / 10;
    }
    let mut objects = Vec::new();
    let colours = [[200, 40, 40], [40, 90, 200], [240, 240, 240], [30, 150, 80]];
    // Cars on the road: body, windows, wheels.
    for i in 0..(2 + next(2)) {
        let cw = w / 5 + next(w / 12);
        let ch = cw * 2 / 5;
        let cx = (i * w / 3 + next(w / 8)).min(w - cw - 1);
        let cy = horizon + (h - horizon) / 4 + next((h - horizon) / 3);
        let cy = cy.min(h - ch - 1);
        let colour = colours[next(colours.len() as u32) as usize];
        fill(&mut img, cx, cy + ch / 3, cx + cw, cy + ch * 5 / 6, colour);
        fill(
            &mut img,
            cx + cw / 5,
            cy,
            cx + cw * 4 / 5,
            cy + ch / 3,
            colour,
        );
        fill(
            &mut img,
            cx + cw / 4,
            cy + ch / 12,
            cx + cw * 3 / 4,
            cy + ch / 3,
            [170, 210, 235],
        );
        for wx in [cx + cw / 8, cx + cw * 5 / 8] {
            fill(
                &mut img,
                wx,
                cy + ch * 2 / 3,
                wx + cw / 4,
                cy + ch,
                [20, 20, 20],
            );
        }
        objects.push(DrawnObject {
            label: "car",
            x: f64::from(cx) / f64::from(w),
            y: f64::from(cy) / f64::from(h),
            w: f64::from(cw) / f64::from(w),
            h: f64::from(ch) / f64::from(h),
        });
    }
    // People on the pavement: head, body, legs.
    for _ in 0..(1 + next(2)) {
        let ph = h / 5 + next(h / 10);
        let pw = (ph / 3).max(3);
        let px = next(w - pw - 1);
        let py = (horizon - ph / 2).min(h - ph - 1);
        fill(
            &mut img,
            px + pw / 3,
            py,
            px + pw * 2 / 3,
            py + ph / 5,
            [230, 190, 160],
        );
        fill(
            &mut img,
            px,
            py + ph / 5,
            px + pw,
            py + ph * 3 / 5,
            [60, 60, 160],
        );
        fill(
            &mut img,
            px + pw / 6,
            py + ph * 3 / 5,
            px + pw * 5 / 6,
            py + ph,
            [40, 40, 40],
        );
        objects.push(DrawnObject {
            label: "person",
            x: f64::from(px) / f64::from(w),
            y: f64::from(py) / f64::from(h),
            w: f64::from(pw) / f64::from(w),
            h: f64::from(ph) / f64::from(h),
        });
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encoding a PNG in memory");
    (png, objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scene_is_a_png_of_its_size_with_objects_inside_it() {
        let (png, objects) = street_scene(3, 640, 400);
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (640, 400));
        assert!(objects.iter().any(|o| o.label == "car"));
        assert!(objects.iter().any(|o| o.label == "person"));
        for o in &objects {
            assert!(
                o.x >= 0.0 && o.y >= 0.0 && o.x + o.w <= 1.0 && o.y + o.h <= 1.0,
                "{o:?}"
            );
        }
        assert_eq!(
            street_scene(3, 640, 400).0,
            png,
            "the same seed draws the same bytes"
        );
        assert_ne!(street_scene(4, 640, 400).0, png);
    }
}
