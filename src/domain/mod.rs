//! The product's rules, pure: no network, disk, database or clock (time comes in as a
//! parameter).

pub mod audit;
pub mod calendar;
pub mod case;
pub mod clock;
pub mod deadline;
pub mod digest;
pub mod documents;
pub mod institution;
pub mod records;
pub mod report;
pub mod scrub;
pub mod stats;
pub mod text;
pub mod webhook;
pub mod workflow;
