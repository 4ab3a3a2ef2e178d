"""Cover art service (Stable Diffusion + compel). So far: the prompt builder."""
