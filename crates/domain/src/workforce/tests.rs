//! Tests of the workforce rules.

use super::*;

#[test]
fn taxonomy_keys_are_unique_well_formed_and_sub_domains_follow_their_parent() {
    let mut seen = std::collections::HashSet::new();
    for d in TAXONOMY {
        assert!(seen.insert(d.key), "duplicate key {}", d.key);
        assert!(
            d.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'/'),
            "{}",
            d.key
        );
        assert!(!d.label.is_empty());
        if d.key.contains('/') {
            assert!(
                TAXONOMY.iter().any(|p| p.key == d.top()),
                "{} has no parent",
                d.key
            );
        }
    }
    for key in [
        "medicine/dermatology",
        "medicine/radiology",
        "law/patents",
        "law/contracts",
        "finance/investment-banking",
        "creative-writing/poetry",
        "languages/translation",
        "music",
        "software",
    ] {
        assert!(domain("d", key).is_ok(), "{key}");
    }
    assert_eq!(domain_label("medicine/dermatology"), "Dermatology");
}

#[test]
fn unknown_domains_levels_time_zones_and_days_are_errors_naming_the_field() {
    let e = domain("expertise[2].domain", "medicine/astrology").unwrap_err();
    assert_eq!(e.field, "expertise[2].domain");
    assert!(e.message.contains("unknown domain"), "{e}");
    let e = Level::parse("languages[0].level", "D1").unwrap_err();
    assert_eq!(e.field, "languages[0].level");
    assert_eq!(Level::parse("x", "c1").unwrap(), Level::C1);
    assert_eq!(Level::parse("x", "Native").unwrap(), Level::Native);
    assert!(time_zone("time_zone", "Europe/Berlin").is_ok());
    assert!(time_zone("time_zone", "UTC").is_ok());
    assert!(time_zone("time_zone", "America/Sao_Paulo").is_ok());
    let e = time_zone("time_zone", "Mars/Olympus_Mons").unwrap_err();
    assert_eq!(e.field, "time_zone");
    assert!(time_zone("time_zone", "europe/berlin").is_err());
    assert_eq!(
        days_mask("days", &["mon".into(), "Friday".into()]).unwrap(),
        0b10001
    );
    assert_eq!(
        days_mask("days", &["funday".into()]).unwrap_err().field,
        "days[0]"
    );
    assert_eq!(mask_days(0b10001), vec!["mon", "fri"]);
    assert!(language("l", "EN").is_ok());
    assert!(language("l", "english").is_err());
    assert!(country("c", "de").is_ok());
}

#[test]
fn levels_order_and_round_trip_through_their_rank() {
    assert!(Level::A1 < Level::C1 && Level::C2 < Level::Native);
    for l in Level::ALL {
        assert_eq!(Level::from_rank(l.rank()), Some(l));
    }
    assert_eq!(Level::from_rank(0), None);
}

#[test]
fn credential_documents_are_typed_from_their_bytes() {
    assert_eq!(
        credential_document_type(b"%PDF-1.7\n...").unwrap(),
        "application/pdf"
    );
    assert_eq!(
        credential_document_type(b"\x89PNG\r\n\x1a\n....").unwrap(),
        "image/png"
    );
    assert_eq!(
        credential_document_type(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
        "image/jpeg"
    );
    let e = credential_document_type(b"<html>not a pdf</html>").unwrap_err();
    assert_eq!(e.field, "document");
    assert!(e.message.contains("text"), "{e}");
    assert!(
        credential_document_type(b"PK\x03\x04xx")
            .unwrap_err()
            .message
            .contains("zip")
    );
}

fn dermatologist() -> WorkerFacts {
    WorkerFacts {
        expertise: vec![("medicine/dermatology".into(), 12)],
        languages: vec![("en".into(), Level::C1), ("de".into(), Level::Native)],
        country: Some("DE".into()),
        quality_permille: Some(900),
        hours_per_week: Some(20),
        min_rate: Some((3000, "EUR".into())),
        utc_offset: Some(60),
    }
}

fn derm_requirements() -> Requirements {
    Requirements {
        domains: vec!["medicine/dermatology".into()],
        languages: vec![LanguageNeed {
            language: "en".into(),
            min_level: "C1".into(),
        }],
        ..Default::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn requirements_list_every_unmet_reason() {
    let req = derm_requirements();
    assert!(unmet(&req, &dermatologist()).is_empty());
    let poet = WorkerFacts {
        expertise: vec![("creative-writing/poetry".into(), 3)],
        languages: vec![("en".into(), Level::B2)],
        ..Default::default()
    };
    let u = unmet(&req, &poet);
    assert_eq!(needs_line(&u), "needs: Dermatology; C1 English");
    // A parent domain is met by any of its sub-domains, not the other way round.
    let med = Requirements {
        domains: vec!["medicine".into()],
        ..Default::default()
    };
    assert!(unmet(&med, &dermatologist()).is_empty());
    let generalist = WorkerFacts {
        expertise: vec![("medicine".into(), 5)],
        ..Default::default()
    };
    assert_eq!(unmet(&req, &generalist)[0].kind, "domain");
}

#[test]
fn quality_history_excludes_only_when_asked() {
    let mut req = Requirements {
        min_quality: Some(0.8),
        ..Default::default()
    };
    let newcomer = WorkerFacts::default();
    assert!(unmet(&req, &newcomer).is_empty());
    req.exclude_without_history = true;
    assert_eq!(unmet(&req, &newcomer)[0].kind, "quality");
    let weak = WorkerFacts {
        quality_permille: Some(700),
        ..Default::default()
    };
    assert!(unmet(&req, &weak)[0].needs.starts_with("quality of 80%"));
    assert!(unmet(&req, &dermatologist()).is_empty());
}

#[test]
fn bad_requirements_name_the_field() {
    let bad_level = Requirements {
        languages: vec![LanguageNeed {
            language: "en".into(),
            min_level: "fluent".into(),
        }],
        ..Default::default()
    };
    assert_eq!(
        bad_level.validate().unwrap_err().field,
        "requirements.languages[0].min_level"
    );
    let bad_domain = Requirements {
        domains: vec!["law".into(), "cooking".into()],
        ..Default::default()
    };
    assert_eq!(
        bad_domain.validate().unwrap_err().field,
        "requirements.domains[1]"
    );
    let bad_q = Requirements {
        min_quality: Some(80.0),
        ..Default::default()
    };
    assert_eq!(
        bad_q.validate().unwrap_err().field,
        "requirements.min_quality"
    );
}

#[test]
fn the_score_rewards_fit_quality_availability_and_rate() {
    let req = derm_requirements();
    let w = dermatologist();
    let (s, reasons) = score(&req, Some((4000, "EUR")), &w);
    // 10+ years: 40; quality 900: 27; 20 h: 7; rate met: 15.
    assert_eq!(s, 40 + 27 + 7 + 15);
    assert!(reasons[0].contains("Dermatology: 12 years"), "{reasons:?}");
    let (low, r) = score(&req, Some((2000, "EUR")), &w);
    assert_eq!(low, s - 15);
    assert!(r[3].contains("below"), "{r:?}");
    let (unknown, _) = score(&req, None, &w);
    assert_eq!(unknown, s - 15 + UNKNOWN_RATE_POINTS);
    let junior = WorkerFacts {
        expertise: vec![("medicine/dermatology".into(), 2)],
        ..w.clone()
    };
    assert!(score(&req, None, &junior).0 < unknown);
    assert_eq!(
        base_points(None, None),
        NEW_QUALITY_POINTS + UNKNOWN_AVAILABILITY_POINTS
    );
}

#[test]
fn time_zones_have_offsets_and_offsets_parse_or_name_the_field() {
    assert_eq!(utc_offset_minutes("Europe/Berlin"), Some(60));
    assert_eq!(utc_offset_minutes("America/Sao_Paulo"), Some(-180));
    assert_eq!(utc_offset_minutes("Asia/Kolkata"), Some(330));
    assert_eq!(utc_offset_minutes("Australia/Sydney"), Some(600));
    assert_eq!(utc_offset_minutes("UTC"), Some(0));
    assert_eq!(utc_offset_minutes("Mars/Olympus_Mons"), None);
    assert_eq!(parse_utc_offset("f", "+01:00"), Ok(60));
    assert_eq!(parse_utc_offset("f", "-03:00"), Ok(-180));
    assert_eq!(parse_utc_offset("f", "UTC+5:30"), Ok(330));
    assert_eq!(parse_utc_offset("f", "+2"), Ok(120));
    assert_eq!(parse_utc_offset("f", "UTC"), Ok(0));
    assert_eq!(parse_utc_offset("f", "0"), Ok(0));
    for bad in [
        "",
        "1",
        "+15:00",
        "-13:00",
        "+01:20",
        "+1:60",
        "Berlin",
        "+01:00:00",
        "++1",
    ] {
        let e = parse_utc_offset("requirements.utc_offset.min", bad).unwrap_err();
        assert_eq!(e.field, "requirements.utc_offset.min", "{bad}");
    }
    assert_eq!(format_utc_offset(-180), "-03:00");
    assert_eq!(utc_offset_label(330), "UTC+5:30");
    assert_eq!(utc_offset_label(-180), "UTC-3");
}

#[test]
fn a_window_of_offsets_filters_and_explains_without_points() {
    let mut req = derm_requirements();
    req.utc_offset = Some(OffsetRange {
        min: "UTC-3".into(),
        max: "+2".into(),
    });
    let req = req.validate().unwrap();
    let range = req.utc_offset.clone().unwrap();
    assert_eq!(
        (range.min.as_str(), range.max.as_str()),
        ("-03:00", "+02:00")
    );
    let w = dermatologist();
    assert!(unmet(&req, &w).is_empty());
    let (with, reasons) = score(&req, None, &w);
    assert_eq!(with, score(&derm_requirements(), None, &w).0);
    assert_eq!(
        reasons[4],
        "UTC+1, within the project's hours (UTC-3 to UTC+2)"
    );
    let far = WorkerFacts {
        utc_offset: Some(540),
        ..w.clone()
    };
    let u = unmet(&req, &far);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].kind, "time_zone");
    assert_eq!(
        u[0].needs,
        "a time zone from UTC-3 to UTC+2 (yours is UTC+9)"
    );
    let unknown = WorkerFacts {
        utc_offset: None,
        ..w
    };
    assert!(unmet(&req, &unknown)[0].needs.contains("not said"));
    let mut backwards = derm_requirements();
    backwards.utc_offset = Some(OffsetRange {
        min: "+02:00".into(),
        max: "-03:00".into(),
    });
    assert_eq!(
        backwards.validate().unwrap_err().field,
        "requirements.utc_offset.max"
    );
    let mut garbled = derm_requirements();
    garbled.utc_offset = Some(OffsetRange {
        min: "noon".into(),
        max: "+03:00".into(),
    });
    assert_eq!(
        garbled.validate().unwrap_err().field,
        "requirements.utc_offset.min"
    );
}
