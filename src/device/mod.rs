//! The device engine. For now: the platform ids users pick from; the SSH engine and the
//! platform profiles (prompts, paging, commands, filters) build on these ids.

pub mod platforms;
