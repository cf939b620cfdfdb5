pub mod fs;
pub mod login;
pub mod server;
pub mod volume;
