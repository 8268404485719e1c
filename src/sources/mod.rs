//! Sources turn the outside world into observations: raw names plus where they were seen.
//! A source never matches and never stores findings; one with a position (a CT log index)
//! keeps a cursor that the pipeline advances only after everything before it is stored.

pub mod certstream;
pub mod ct;
pub mod nrd;
