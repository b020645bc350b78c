//! `edgeward-hub` (library part): the SOC hub — per-gateway event files with de-duplication and
//! checks of every event against the sender's certificate, acknowledgements, rule-bundle push,
//! results, status, and the relay of every gateway's events to the SIEM.

pub mod hub;
