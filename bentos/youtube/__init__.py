"""YouTube audio service (yt-dlp): the audio of one video, with its title, uploader and length."""
