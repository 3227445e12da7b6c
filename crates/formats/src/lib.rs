//! Streaming readers and writers for the file formats Fairloop imports and exports.
