//! Whether a reporter's position can lie in the chosen county: a bounding box per county-level
//! division (`infra/data/divisions/boxes.json`, generated from a pinned package; `SOURCE.md`).
//! A position outside the box, widened by [`MARGIN_DEG`], contradicts the county.

use crate::division::DivisionCode;
use crate::event::Gps;

include!(concat!(env!("OUT_DIR"), "/county_boxes.rs"));

/// How far outside its box a position may be and still count (≈5 km): the boxes are rounded to
/// 0.01°, drawn from older outlines, and WeChat's positions may be GCJ-02 (shifted < 1 km).
pub const MARGIN_DEG: f64 = 0.05;

/// A box in degrees: longitudes `min_lng..=max_lng`, latitudes `min_lat..=max_lat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lng: f64,
    pub min_lat: f64,
    pub max_lng: f64,
    pub max_lat: f64,
}

/// The box of a county-level division (or a city without counties), if the data has one.
pub fn county_box(code: &DivisionCode) -> Option<BoundingBox> {
    let n: u32 = code.as_str().parse().ok()?;
    let i = COUNTY_BOXES.binary_search_by_key(&n, |(c, _)| *c).ok()?;
    let [a, b, c, d] = COUNTY_BOXES[i].1;
    Some(BoundingBox {
        min_lng: f64::from(a) / 100.0,
        min_lat: f64::from(b) / 100.0,
        max_lng: f64::from(c) / 100.0,
        max_lat: f64::from(d) / 100.0,
    })
}

/// Whether `gps` contradicts the county `code`: outside its box by more than [`MARGIN_DEG`].
/// A division without a box contradicts nothing.
pub fn contradicts(code: &DivisionCode, gps: &Gps) -> bool {
    county_box(code).is_some_and(|b| {
        gps.lng < b.min_lng - MARGIN_DEG
            || gps.lng > b.max_lng + MARGIN_DEG
            || gps.lat < b.min_lat - MARGIN_DEG
            || gps.lat > b.max_lat + MARGIN_DEG
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::divisions::Divisions;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("code")
    }

    fn gps(lat: f64, lng: f64) -> Gps {
        Gps::new(lat, lng).expect("gps")
    }

    #[test]
    fn a_position_far_from_the_county_contradicts_it() {
        let xihu = code("330106");
        assert!(!contradicts(&xihu, &gps(30.25, 120.05)), "西湖 itself");
        assert!(!contradicts(&xihu, &gps(30.245, 120.13)), "by the lake");
        assert!(contradicts(&xihu, &gps(0.0, 0.0)), "(0,0)");
        assert!(contradicts(&xihu, &gps(-33.92, 18.42)), "Cape Town");
        assert!(contradicts(&xihu, &gps(39.91, 116.40)), "Beijing");
        assert!(contradicts(&xihu, &gps(29.87, 121.55)), "Ningbo");
        assert!(!contradicts(&code("110101"), &gps(39.93, 116.41)), "东城区");
    }

    #[test]
    fn every_box_belongs_to_a_reportable_place_in_china() {
        let div = Divisions::embedded();
        assert!(COUNTY_BOXES.len() > 2800, "{}", COUNTY_BOXES.len());
        for (c, [a, b, cc, d]) in COUNTY_BOXES {
            let dc = code(&c.to_string());
            assert!(div.is_reportable_location(&dc), "{c}");
            assert!(a < cc && b < d, "{c}");
            assert!(
                (7300..=13600).contains(a) && (300..=5400).contains(d),
                "{c}"
            );
        }
    }
}
