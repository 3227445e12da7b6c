//! Schema migrations, embedded in the binary.
//!
//! Each migration exists once per backend under the same file name (`migrations/sqlite/NAME.sql` and
//! `migrations/postgres/NAME.sql`), so the two schemas cannot drift apart silently: the table below lists each
//! name once with both texts. Applied names are recorded in `_fairloop_migrations`.

/// One migration: its name and its text for each backend.
pub(crate) struct Migration {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

macro_rules! migration {
    ($name:literal) => {
        Migration {
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

/// Every migration in the order it applies.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!("0001_core"),
    migration!("0002_accounts"),
    migration!("0003_quality"),
    migration!("0004_review"),
    migration!("0005_ledger"),
    migration!("0006_invitations"),
    migration!("0007_dashboard"),
    migration!("0008_guidelines_drafts"),
    migration!("0009_terms"),
    migration!("0010_guideline_acks"),
    migration!("0011_user_country"),
    migration!("0012_lifecycle"),
    migration!("0013_wellbeing"),
    migration!("0014_messages"),
    migration!("0015_media"),
    migration!("0017_onboarding"),
    migration!("0018_profiles"),
    migration!("0019_assessments"),
    migration!("0020_interviews"),
    migration!("0021_vendors"),
    migration!("0022_media_delete"),
    migration!("0023_match_rows"),
    migration!("0024_assessment_edit"),
];

/// The bookkeeping table, the same on both backends.
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _fairloop_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_on_disk_is_listed_for_both_backends() {
        for backend in ["sqlite", "postgres"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .trim_end_matches(".sql")
                        .to_string()
                })
                .collect();
            names.sort();
            let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
            assert_eq!(names, listed, "migrations/{backend} and MIGRATIONS differ");
        }
    }
}
