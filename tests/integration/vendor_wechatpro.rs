//! SCAFFOLD: vendor_wechatpro tests.
