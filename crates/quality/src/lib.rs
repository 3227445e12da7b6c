//! Pure quality algorithms for Fairloop: agreement, aggregation and ranking, with no database and no I/O beyond
//! reading and writing CSV through [`std::io`] traits.
//!
//! - [`aggregate`]: majority vote, Dawid-Skene, one-coin Dawid-Skene, GLAD and MACE for categorical labels, and
//!   mean / median / trimmed mean for numeric answers ([`aggregate::numeric`]).
//! - [`agreement`]: percent agreement, Cohen's, Fleiss' and Randolph's kappa, Krippendorff's alpha.
//! - [`rank`]: Bradley-Terry from pairwise comparisons (with ties) and rankings.
//! - [`io`]: the CSV layouts of the `fairloop quality` commands, with line-numbered errors.
//!
//! Data is held as struct-of-arrays over dense `u32` ids ([`intern::Interner`]) so that a million tasks fit in a
//! couple of hundred megabytes and the EM loops run over flat slices. Everything is deterministic: the same input
//! gives the same output, bit for bit. See `docs/quality.md` for the CLI and the choices made.

pub mod aggregate;
pub mod agreement;
pub mod commands;
pub mod data;
mod error;
pub mod intern;
pub mod io;
pub mod rank;
pub mod similarity;

pub use data::{Comparisons, LabelData, NumericData, RatingData};
pub use error::QualityError;
