//! Camera capture (placeholder: see the camera helper).
