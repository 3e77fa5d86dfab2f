//! Handles: how the user names a connection or a listener of an endpoint. They sit at the
//! bottom of the crate, so that records and events below the endpoint can hold them without
//! importing from it.

/// Names one connection of an endpoint. Stale handles (of freed connections) are detected:
/// the generation of the slab place must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Names one listener of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}
