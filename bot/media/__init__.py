"""Citizens' evidence: ``fetch`` downloads an attachment from the provider that holds it (Twilio
for WhatsApp and SMS, Telegram), ``process`` decides from its bytes what it is and makes it safe
to keep (photos re-encoded without location or any other metadata; PDFs and voice notes as they
are; everything else refused); the other modules keep, transcribe and serve what was kept."""
