//! The production resolver, backed by hickory-resolver.
