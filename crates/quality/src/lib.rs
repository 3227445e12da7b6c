//! Pure quality algorithms: agreement, aggregation and ranking, with no database.
