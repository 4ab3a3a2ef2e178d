"""The cover studio: the song-to-covers application, a job API and a web page."""
