//! The one integration test binary: the real daemon, its CLI and the vendor clients against the
//! simulator on 127.0.0.1:0. Modules group the tests by subject.

mod admin;
mod admin_guard;
mod cli;
mod cli_output;
mod config_fixtures;
mod container;
mod demo;
mod keeper;
mod logged;
mod notify;
mod notify_test;
mod sim_api;
mod support;
mod systemd;
mod vendor_gewe;
mod vendor_shrise;
mod vendor_support;
mod vendor_wechatpro;
mod vendor_wkteam;
