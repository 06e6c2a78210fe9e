"""Built-in strings of the engine, per language, and the default global command words.

A script may override any message under its ``messages:`` key and rename command words under
``commands:``. Every string is plain GSM-7 text, short enough for one SMS, without emoji or
Markdown, so it works on a basic phone and with a screen reader.
"""
from __future__ import annotations

BUILTIN_MESSAGES: dict[str, dict[str, str]] = {
    # answer hints (specific: they say what was wrong and what works)
    "hint_choice": {
        "id": "Maaf, pilihan tidak dikenal. Balas dengan nomor {numbers}.",
        "en": "Sorry, I did not recognise that. Reply with a number: {numbers}.",
    },
    "hint_choice_ambiguous": {
        "id": "Maaf, jawaban cocok dengan beberapa pilihan. Balas dengan nomor {numbers}.",
        "en": "Sorry, that matches more than one option. Reply with a number: {numbers}.",
    },
    "hint_text_short": {
        "id": "Terlalu pendek: tulis minimal {min} huruf (sekarang {length}).",
        "en": "Too short: write at least {min} characters (now {length}).",
    },
    "hint_text_long": {
        "id": "Terlalu panjang: maksimal {max} huruf (sekarang {length}).",
        "en": "Too long: at most {max} characters (now {length}).",
    },
    "hint_number": {
        "id": "Balas dengan angka, misalnya 3.",
        "en": "Reply with a number, for example 3.",
    },
    "hint_number_range": {
        "id": "Angka harus antara {min} dan {max}.",
        "en": "The number must be between {min} and {max}.",
    },
    "hint_number_min": {
        "id": "Angka minimal {min}.",
        "en": "The number must be at least {min}.",
    },
    "hint_number_max": {
        "id": "Angka maksimal {max}.",
        "en": "The number must be at most {max}.",
    },
    "hint_date": {
        "id": "Tulis tanggal, misalnya 12/05/2024, 12 Mei 2024, hari ini atau kemarin.",
        "en": "Write a date, for example 12/05/2024, 12 May 2024, today or yesterday.",
    },
    "hint_date_future": {
        "id": "Tanggal itu belum terjadi. Tulis tanggal hari ini atau sebelumnya.",
        "en": "That date is in the future. Write today's date or an earlier one.",
    },
    "hint_date_too_old": {
        "id": "Tanggal terlalu lama: paling jauh {days} hari yang lalu.",
        "en": "That date is too long ago: at most {days} days ago.",
    },
    "hint_yes_no": {
        "id": "Balas YA atau TIDAK.",
        "en": "Reply YES or NO.",
    },
    "hint_phone": {
        "id": "Nomor HP tidak valid. Contoh: 0812 3456 7890.",
        "en": "That phone number is not valid. Example: +62 812 3456 7890.",
    },
    "hint_location": {
        "id": "Tulis alamat atau nama tempat (minimal 3 huruf), atau kirim lokasi.",
        "en": "Write an address or place name (at least 3 characters), or share a location.",
    },
    "hint_media": {
        "id": "Kirim foto atau dokumen, atau balas LEWATI.",
        "en": "Send a photo or document, or reply SKIP.",
    },
    "hint_confirm": {
        "id": "Balas YA untuk mengirim, atau nomor 1-{count} untuk mengubah jawaban.",
        "en": "Reply YES to send, or a number 1-{count} to change an answer.",
    },
    "hint_empty": {
        "id": "Pesan kosong. {question_hint}",
        "en": "Empty message. {question_hint}",
    },
    # engine messages
    "menu_reply": {
        "id": "Balas {numbers}.",
        "en": "Reply {numbers}.",
    },
    "or": {"id": "atau", "en": "or"},
    "optional_skip": {
        "id": "Balas LEWATI jika tidak ada.",
        "en": "Reply SKIP if none.",
    },
    "help_offer": {
        "id": "Perlu bantuan? Balas BANTUAN. Untuk berhenti, balas BATAL.",
        "en": "Need help? Reply HELP. To stop, reply CANCEL.",
    },
    "help": {
        "id": (
            "Jawab pertanyaan satu per satu. Perintah: KEMBALI (pertanyaan sebelumnya), "
            "ULANG (mulai lagi), BATAL, BAHASA (English), STATUS nomor laporan."
        ),
        "en": (
            "Answer one question at a time. Commands: BACK (previous question), "
            "RESTART, CANCEL, LANGUAGE (Bahasa Indonesia), STATUS report number."
        ),
    },
    "back_at_start": {
        "id": "Ini pertanyaan pertama.",
        "en": "This is the first question.",
    },
    "cancelled": {
        "id": "Laporan dibatalkan. Kirim pesan apa saja untuk mulai lagi.",
        "en": "Report cancelled. Send any message to start again.",
    },
    "restarted": {
        "id": "Kita mulai dari awal.",
        "en": "Let us start again.",
    },
    "expired": {
        "id": "Sesi sebelumnya berakhir karena lama tidak aktif. Kita mulai lagi.",
        "en": "Your previous session ended after a long pause. Let us start again.",
    },
    "resumed": {
        "id": "Selamat datang kembali. Kita lanjutkan laporan Anda:",
        "en": "Welcome back. Let us go on with your report:",
    },
    "language_set": {
        "id": "Bahasa: Indonesia.",
        "en": "Language: English.",
    },
    "opted_out": {
        "id": "Anda tidak akan menerima pesan lagi. Balas MULAI untuk kembali.",
        "en": "You will get no more messages. Reply START to come back.",
    },
    "opted_in": {
        "id": "Selamat datang kembali.",
        "en": "Welcome back.",
    },
    "summary_intro": {
        "id": "Periksa laporan Anda:",
        "en": "Please check your report:",
    },
    "summary_empty_value": {"id": "-", "en": "-"},
    "edit_number": {
        "id": "Balas nomor jawaban yang ingin diubah (1-{count}), atau BATAL.",
        "en": "Reply the number of the answer to change (1-{count}), or CANCEL.",
    },
    "status_usage": {
        "id": "Tulis STATUS lalu nomor laporan, misalnya STATUS LAP-7K3M9Q.",
        "en": "Write STATUS and the report number, for example STATUS LAP-7K3M9Q.",
    },
    "yes": {"id": "Ya", "en": "Yes"},
    "no": {"id": "Tidak", "en": "No"},
    "none": {"id": "Tidak ada", "en": "None"},
    # conversation milestones (scripts usually override welcome and submitted)
    "welcome": {
        "id": "Selamat datang di LAPOR!",
        "en": "Welcome to LAPOR!",
    },
    "submitted": {
        "id": "Terima kasih. Laporan Anda tercatat dengan nomor {tracking_number}. "
              "Cek kapan saja: STATUS {tracking_number}",
        "en": "Thank you. Your report is filed as {tracking_number}. Check it any time: STATUS {tracking_number}",
    },
    # STATUS answers (filled in by the intake from storage)
    "status_found": {
        "id": "Laporan {tracking_number}: {status}.",
        "en": "Report {tracking_number}: {status}.",
    },
    "status_note": {
        "id": "Catatan: {note}",
        "en": "Note: {note}",
    },
    "status_not_found": {
        "id": "Nomor {tracking_number} tidak ditemukan untuk nomor Anda. Periksa lagi nomornya.",
        "en": "Report {tracking_number} was not found for your number. Please check it.",
    },
    "status_changed": {
        "id": "Kabar laporan {tracking_number}: {status}.",
        "en": "Update on report {tracking_number}: {status}.",
    },
    "status_queued": {"id": "diterima sistem, menunggu diteruskan", "en": "received, waiting to be forwarded"},
    "status_received": {"id": "diterima instansi", "en": "received by the agency"},
    "status_verified": {"id": "sudah diverifikasi", "en": "verified"},
    "status_in_progress": {"id": "sedang ditindaklanjuti", "en": "in progress"},
    "status_resolved": {"id": "selesai", "en": "resolved"},
    "status_rejected": {"id": "tidak dapat diproses", "en": "could not be processed"},
}

# Global command words; the first word per language is the one shown in help texts.
BUILTIN_COMMANDS: dict[str, dict[str, tuple[str, ...]]] = {
    "help": {"id": ("bantuan", "tolong", "menu"), "en": ("help",)},
    "back": {"id": ("kembali", "sebelumnya"), "en": ("back", "previous")},
    "cancel": {"id": ("batal", "batalkan"), "en": ("cancel",)},
    "restart": {"id": ("ulang", "mulai ulang", "ulangi"), "en": ("restart",)},
    "language": {"id": ("bahasa",), "en": ("language",)},
    "status": {"id": ("status", "cek"), "en": ("status", "check")},
    "stop": {"id": ("berhenti",), "en": ("stop", "unsubscribe")},
    "start": {"id": ("mulai",), "en": ("start", "subscribe")},
}

# Words that pick a language after BAHASA/LANGUAGE, or alone.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "indonesia", "bahasa indonesia", "indonesian", "ind"),
    "en": ("en", "english", "inggris", "bahasa inggris", "eng"),
}

# Answers that skip an optional step (media, optional text...).
SKIP_WORDS: frozenset[str] = frozenset(
    {"lewati", "lewat", "skip", "tidak ada", "gak ada", "nggak ada", "ga ada", "none", "no", "-", "tidak", "kosong"}
)

YES_WORDS: frozenset[str] = frozenset(
    {"ya", "iya", "y", "ok", "oke", "okay", "betul", "benar", "setuju", "yes", "yup", "yeah", "sure", "correct", "iyaa",
     "yaa", "kirim", "send"}
)
NO_WORDS: frozenset[str] = frozenset(
    {"tidak", "tdk", "gak", "ga", "nggak", "ngga", "enggak", "engga", "bukan", "jangan", "no", "n", "nope", "not",
     "salah"}
)

# Greetings: after a pause, one of these is no answer but a "hello again" (the engine then says
# where the citizen was and asks the pending question again).
GREETING_WORDS: frozenset[str] = frozenset(
    {"halo", "hallo", "hai", "hi", "hello", "hey", "hei", "p", "permisi", "assalamualaikum", "assalamu alaikum",
     "selamat pagi", "selamat siang", "selamat sore", "selamat malam", "pagi", "siang", "sore", "malam",
     "good morning", "good afternoon", "good evening"}
)

# Small numbers in words (number answers, "dua hari lalu").
NUMBER_WORDS: dict[str, int] = {
    word: value
    for value, words in enumerate((
        ("nol", "zero"), ("satu", "one"), ("dua", "two"), ("tiga", "three"), ("empat", "four"), ("lima", "five"),
        ("enam", "six"), ("tujuh", "seven"), ("delapan", "eight"), ("sembilan", "nine"), ("sepuluh", "ten"),
    ))
    for word in words
}

# Words before a menu number ("no 2", "pilih 3", "option 1").
CHOICE_NUMBER_WORDS: tuple[str, ...] = ("no", "nomor", "nomer", "number", "pilihan", "pilih", "option", "opsi")

# Dates: days before today, month names and abbreviations, and the words around them.
RELATIVE_DAYS: dict[str, int] = {
    "hari ini": 0, "today": 0, "sekarang": 0, "tadi": 0, "now": 0, "barusan": 0,
    "kemarin": 1, "kemaren": 1, "yesterday": 1,
    "kemarin lusa": 2, "kemaren lusa": 2,
    "minggu lalu": 7, "seminggu lalu": 7, "seminggu yang lalu": 7, "last week": 7, "a week ago": 7,
}  # fmt: skip
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate((
        ("januari", "january", "jan"), ("februari", "pebruari", "february", "feb", "peb"), ("maret", "march", "mar"),
        ("april", "apr"), ("mei", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
        ("agustus", "august", "agu", "agt", "ags", "agus", "aug"), ("september", "sep", "sept"),
        ("oktober", "october", "okt", "oct"), ("november", "nov", "nop"), ("desember", "december", "des", "dec"),
    ), start=1)
    for name in names
}
DATE_PREFIX_WORDS: tuple[str, ...] = ("pada", "tanggal", "tgl", "on")  # "tanggal 12 Mei"
DAY_WORDS: tuple[str, ...] = ("hari", "day", "days")  # "3 hari lalu"
WEEK_WORDS: tuple[str, ...] = ("minggu", "week", "weeks")
AGO_WORDS: tuple[str, ...] = ("lalu", "ago")
THAT_WORDS: tuple[str, ...] = ("yang", "yg")  # "3 hari yang lalu"

# How answers are shown in the summary.
MONTH_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
ATTACHMENT_COUNT: dict[str, tuple[str, str]] = {  # (one, several)
    "id": ("{n} lampiran", "{n} lampiran"), "en": ("{n} attachment", "{n} attachments"),
}

# Words around a summary line number ("ubah 3", "change 3").
EDIT_WORDS: tuple[str, ...] = ("ubah", "ganti", "edit", "change", "no", "nomor", "number")
