pub mod forks;
pub mod fs;
pub mod login;
pub mod mount;
pub mod server;
pub mod volume;
