"""Long video tab: Helios (PKU-YuanGroup) text/image/video-to-video through diffusers' own pipelines."""
