"""Local HTTP fakes of the cloud services the workers call (S3, Textract, Gemini)."""
