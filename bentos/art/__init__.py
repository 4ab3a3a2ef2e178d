"""Cover art service: album covers with Stable Diffusion and compel prompt weighting."""
