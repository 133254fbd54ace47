"""The generic VNF Manager: lifecycle of the VNFCs of one VNF on a VIM."""
