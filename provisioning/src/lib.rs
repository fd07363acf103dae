//! placeholder until the provisioning helper lands its code.
