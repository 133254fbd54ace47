"""VIM drivers: the port every driver implements, a registry by VIM type, the drivers."""
