//! Helpers the integration tests share: fake servers, real servers started on 127.0.0.1,
//! the service in-process and as a child process, a WebDriver client.

pub mod app;
pub mod enrich;
pub mod fakelog;
pub mod python;
pub mod service;
pub mod smtp;
pub mod webdriver;
