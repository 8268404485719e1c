//! The commands of the `lookalike` binary that are more than a call into the library.

pub(crate) mod check;
pub(crate) mod permute;
pub(crate) mod scan;
