"""Auto-scaling: descriptor policies evaluated continuously on the VNFs' metrics."""
