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
    "hint_choice_ambiguous": {  # {candidates}: "1 atau 3"; {numbers}: every option's number
        "id": "Maksud Anda {candidates}? Balas satu nomor saja.",
        "en": "Did you mean {candidates}? Reply with one number.",
    },
    "hint_text_short": {
        "id": "Terlalu pendek: tulis minimal {min} huruf (sekarang {length}).",
        "en": "Too short: write at least {min} characters (now {length}).",
    },
    "hint_text_long": {
        "id": "Terlalu panjang: maksimal {max} huruf (sekarang {length}).",
        "en": "Too long: at most {max} characters (now {length}).",
    },
    "hint_name": {
        "id": "Mohon tulis nama Anda dengan huruf, misalnya: Budi Santoso.",
        "en": "Please write your name in letters, for example: Budi Santoso.",
    },
    "notice_truncated": {  # told with the next question when a long text was cut to the limit
        "id": "Jawaban Anda panjang: kami simpan {kept} huruf pertama.",
        "en": "Your answer was long: we kept the first {kept} characters.",
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
    "hint_date_unknown": {
        "id": "Tidak apa-apa, perkiraan saja: misalnya bulan lalu, Mei 2024, atau 2023.",
        "en": "That is fine, an estimate will do: for example last month, May 2024 or 2023.",
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
    "voice_note_text": {  # the answer of a text step that a voice note answered (the note is attached)
        "id": "(Pesan suara terlampir)",
        "en": "(Voice note attached)",
    },
    "media_refused": {  # sent by the worker when a file turns out to be of a type we do not keep
        "id": "Maaf, file tadi tidak bisa kami terima. Kirim foto, dokumen PDF, atau pesan suara.",
        "en": "Sorry, we cannot accept that file. Send a photo, a PDF document or a voice note.",
    },
    "place_ask": {  # a place name that several regions share: which one?
        "id": "Maksud Anda yang mana?",
        "en": "Which one do you mean?",
    },
    "place_none": {"id": "Bukan salah satunya", "en": "None of these"},
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
    # a first message that already holds the complaint (dialogs.prefill)
    "prefilled": {
        "id": "Terima kasih, laporan Anda kami catat: {title}",
        "en": "Thank you, we noted your report: {title}",
    },
    "category_proposal": {
        "id": "Sepertinya ini soal {label}. Benar? Balas YA, atau pilih nomor:",
        "en": "This looks like {label}. Right? Reply YES, or choose a number:",
    },
    # confirmations before something that cannot be undone
    "stop_confirm": {
        "id": "Berhenti menerima pesan LAPOR!? Laporan yang belum selesai tidak dikirim. "
              "Balas YA untuk berhenti, atau TIDAK untuk lanjut.",
        "en": "Stop all LAPOR! messages? An unfinished report is not sent. Reply YES to stop, or NO to go on.",
    },
    "cancel_confirm": {
        "id": "Laporan Anda sudah lengkap. Yakin dibatalkan? Balas YA untuk membatalkan, atau TIDAK untuk kembali.",
        "en": "Your report is complete. Throw it away? Reply YES to cancel it, or NO to go back.",
    },
    "cancel_ask": {
        "id": "Batalkan laporan ini? Balas YA untuk membatalkan, atau TIDAK untuk lanjut.",
        "en": "Cancel this report? Reply YES to cancel it, or NO to go on.",
    },
    "go_on": {
        "id": "Baik, kita lanjutkan.",
        "en": "OK, let us go on.",
    },
    "thanks_reply": {
        "id": "Sama-sama. Kirim pesan untuk laporan baru, atau CEK STATUS untuk laporan Anda.",
        "en": "You are welcome. Send a message for a new report, or CHECK STATUS for yours.",
    },
    "status_mistyped": {
        "id": "Nomor laporan berbentuk LAP- dan 6 huruf/angka, misalnya LAP-7K3M9Q. Periksa lagi, "
              "atau balas CEK STATUS untuk melihat laporan Anda.",
        "en": "A report number is LAP- and 6 letters or digits, e.g. LAP-7K3M9Q. Check it, "
              "or reply CHECK STATUS to see your reports.",
    },
    # STATUS answers (filled in by the intake from storage)
    "status_found": {
        "id": "Laporan {tracking_number} ({title}): {status}.",
        "en": "Report {tracking_number} ({title}): {status}.",
    },
    "status_list": {
        "id": "Laporan Anda:",
        "en": "Your reports:",
    },
    "status_list_item": {
        "id": "{tracking_number} {title}: {status}",
        "en": "{tracking_number} {title}: {status}",
    },
    "status_list_more": {
        "id": "Balas nomor laporan untuk rinciannya.",
        "en": "Reply a report number for its details.",
    },
    "status_none": {
        "id": "Belum ada laporan dari nomor Anda. Kirim pesan apa saja untuk membuat laporan.",
        "en": "You have no reports yet. Send any message to start one.",
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
        "id": "Kabar laporan {tracking_number} ({title}): {status}.",
        "en": "Update on report {tracking_number} ({title}): {status}.",
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
    {"lewati", "lewat", "skip", "tidak ada", "gak ada", "nggak ada", "ga ada", "none", "no", "-", "tidak", "kosong",
     "lewatin", "lompati", "gk ada", "ngga ada", "ngga", "nggak", "gak", "ga", "tdk ada", "tdk", "gada", "gaada",
     "gakada", "gkada", "belum ada", "blm ada", "tidak punya", "gak punya", "ndak ada", "nda ada", "nothing",
     "nope", "n/a", "na", "nil", "pass"}
)
# Skipping, in general: a negation, then "ada"/"punya", then perhaps what is missing ("gak ada foto",
# "belum punya bukti"); or "no"/"nothing" and perhaps what ("no photo"). Matched on the loose text
# without honorifics and particles ("tidak ada pak" -> "tidak ada"): dialogs.answers.skip.
SKIP_NEGATIONS: tuple[str, ...] = (
    "tidak", "tdk", "tak", "gak", "ga", "gk", "g", "nggak", "ngga", "ngak", "nggk", "ngk", "enggak", "engga",
    "ndak", "nda", "ndk", "belum", "blm", "blum", "blom", "belom", "bukan",
)
SKIP_HAVE_WORDS: tuple[str, ...] = ("ada", "punya", "pny", "bawa", "sempat", "ada yang", "ada yg")
SKIP_OBJECT_WORDS: tuple[str, ...] = (
    "foto", "fotonya", "poto", "photo", "photos", "gambar", "gambarnya", "dokumen", "dokumennya", "lampiran",
    "lampirannya", "bukti", "buktinya", "file", "filenya", "files", "video", "videonya", "apa apa", "apapun",
    "apa pun", "picture", "pictures", "document", "documents", "attachment", "attachments", "evidence", "any",
    "sama sekali",
)
SKIP_ENGLISH_NO: tuple[str, ...] = ("no", "none", "nothing", "not any", "don t have", "dont have", "do not have",
                                    "i don t have", "i dont have", "i do not have", "i have no", "haven t got")

YES_WORDS: frozenset[str] = frozenset(
    {"ya", "iya", "y", "ok", "oke", "okay", "betul", "benar", "setuju", "yes", "yup", "yeah", "sure", "correct", "iyaa",
     "yaa", "kirim", "send", "iy", "yoi", "yep", "bener", "sudah benar", "sdh benar", "udah bener", "udah benar",
     "sudah betul", "sdh betul", "udah betul", "sudah bener", "sudah sesuai", "sesuai", "siap", "sip", "sipp",
     "okey", "okeh", "okee", "okk", "oc", "lanjut", "lanjutkan", "boleh", "mantap", "mantab", "right",
     "go on", "go ahead", "yes please", "ya benar", "ya betul", "iya benar", "iya betul", "benar sekali",
     "that s right", "thats right", "all good"}
)
NO_WORDS: frozenset[str] = frozenset(
    {"tidak", "tdk", "gak", "ga", "nggak", "ngga", "enggak", "engga", "bukan", "jangan", "no", "n", "nope", "not",
     "salah", "gk", "g", "tak", "ndak", "nda", "ngak", "belum", "blm", "blum", "belom", "nah", "wrong",
     "tidak benar", "kurang tepat", "tidak sesuai", "tidak betul", "bukan itu", "masih salah"}
)
# "sudah"/"udah" before a yes-word ("sudah oke") still says yes (dialogs.answers.yes_no.meaning).
ALREADY_WORDS: tuple[str, ...] = ("sudah", "sdh", "udah", "udh", "dah", "sudh", "already")

# Words around an answer that carry no meaning of their own: honorifics ("iya pak", "tidak ada bu"),
# particles ("sip deh", "2 aja"), thanks. Dropped at the end of an answer (honorifics at its start
# too) before matching, never the answer's last word (dialogs.normalize.strip_politeness).
HONORIFIC_WORDS: tuple[str, ...] = (
    "pak", "bapak", "bpk", "pk", "bu", "ibu", "mas", "mbak", "mba", "kak", "kakak", "ka", "bang", "abang", "dik",
    "dek", "adik", "gan", "agan", "min", "admin", "mimin", "om", "tante", "bro", "sis", "sir", "madam", "maam",
    "ma am",
)
PARTICLE_WORDS: tuple[str, ...] = (
    "kok", "sih", "deh", "dong", "ya", "yah", "nih", "tuh", "aja", "saja", "kak", "lho", "loh", "kan", "please",
    "pls", "plz", "thanks", "thank you", "thx", "makasih", "makasi", "terima kasih", "trims", "tks", "mksh",
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
CHOICE_NUMBER_WORDS: tuple[str, ...] = ("no", "nomor", "nomer", "number", "pilihan", "pilih", "option", "opsi",
                                        "nmr", "yg", "yang", "angka", "jawaban", "jawab", "choice", "pick",
                                        "choose", "saya", "sy", "aku", "mau", "ingin", "i", "the", "ke", "nr", "num")
# Between two menu numbers: "1 atau 3" names two options (an ambiguous answer).
CHOICE_JOIN_WORDS: tuple[str, ...] = ("atau", "ato", "dan", "sama", "or", "and", "juga", "dengan")
# Ordinals that pick a menu entry ("yang kedua", "the second one"); number words are NUMBER_WORDS.
ORDINAL_WORDS: dict[str, int] = {
    word: value
    for value, words in enumerate((
        ("pertama", "kesatu", "first", "1st"), ("kedua", "second", "2nd"), ("ketiga", "third", "3rd"),
        ("keempat", "fourth", "4th"), ("kelima", "fifth", "5th"), ("keenam", "sixth", "6th"),
        ("ketujuh", "seventh", "7th"), ("kedelapan", "eighth", "8th"), ("kesembilan", "ninth", "9th"),
        ("kesepuluh", "tenth", "10th"),
    ), start=1)
    for word in words
}

# Dates: days before today, month names and abbreviations, and the words around them.
RELATIVE_DAYS: dict[str, int] = {
    "hari ini": 0, "today": 0, "sekarang": 0, "tadi": 0, "now": 0, "barusan": 0,
    "kemarin": 1, "kemaren": 1, "yesterday": 1,
    "kemarin lusa": 2, "kemaren lusa": 2,
    "minggu lalu": 7, "seminggu lalu": 7, "seminggu yang lalu": 7, "last week": 7, "a week ago": 7,
    "kmrn": 1, "kmren": 1, "kmarin": 1, "kmaren": 1, "kemrin": 1, "kemarn": 1, "kmrin": 1, "kemarin ini": 1,
    "hr ini": 0, "hri ini": 0, "hari ni": 0, "hr ni": 0, "td": 0, "baru saja": 0, "barusan ini": 0, "this morning": 0,
    "this afternoon": 0, "this evening": 0, "tonight": 0, "tadi malam": 1, "td malam": 1, "tadi mlm": 1,
    "td mlm": 1, "semalam": 1, "smlm": 1, "semalem": 1, "tadi malem": 1, "last night": 1,
    "lusa kemarin": 2, "lusa kemaren": 2, "kemarin dulu": 2, "kmrn lusa": 2, "the day before yesterday": 2,
    "minggu kemarin": 7, "minggu kemaren": 7, "mgg lalu": 7, "seminggu": 7, "sepekan lalu": 7, "pekan lalu": 7,
    "pagi tadi": 0, "pagi ini": 0, "siang tadi": 0, "siang ini": 0, "sore tadi": 0, "sore ini": 0, "malam ini": 0,
    "baru tadi": 0, "just now": 0, "earlier today": 0,
}  # fmt: skip
# Words after a day that say the time of day ("kemarin sore", "tadi pagi"): dropped.
TIME_OF_DAY_WORDS: tuple[str, ...] = ("pagi", "siang", "sore", "malam", "malem", "mlm", "subuh", "petang",
                                      "morning", "afternoon", "evening", "night")
CLOCK_WORDS: tuple[str, ...] = ("jam", "jm", "pukul", "pkl", "at", "around")  # "kemarin jam 3 sore": dropped
CLOCK_ZONES: tuple[str, ...] = ("wib", "wita", "wit", "am", "pm")
# After a weekday: that day of last week ("senin minggu lalu").
LAST_WEEK_WORDS: tuple[str, ...] = ("minggu lalu", "minggu kemarin", "minggu kemaren", "pekan lalu", "last week")
# "I" before "lupa", "tidak tahu", "tidak ada" (ignored).
SELF_WORDS: tuple[str, ...] = ("saya", "sy", "aku", "ak", "kami", "i")
WITHOUT_WORDS: tuple[str, ...] = ("tanpa", "without")  # "tanpa foto": nothing to attach
# Days ahead of today: the future, refused unless the step allows it.
FUTURE_DAYS: dict[str, int] = {
    "besok": 1, "bsk": 1, "besuk": 1, "esok": 1, "tomorrow": 1, "lusa": 2, "the day after tomorrow": 2,
    "minggu depan": 7, "pekan depan": 7, "next week": 7,
}  # fmt: skip
# Months and years before this one (month or year precision: "2024-04", "2023").
RELATIVE_MONTHS: dict[str, int] = {
    "bulan ini": 0, "bln ini": 0, "this month": 0,
    "bulan lalu": 1, "bln lalu": 1, "bulan kemarin": 1, "bulan kemaren": 1, "bln kemarin": 1, "bln kmrn": 1,
    "sebulan lalu": 1, "sebulan yang lalu": 1, "sebulan yg lalu": 1, "last month": 1, "a month ago": 1,
    "bulan depan": -1, "bln depan": -1, "next month": -1,
}  # fmt: skip
RELATIVE_YEARS: dict[str, int] = {
    "tahun ini": 0, "thn ini": 0, "this year": 0,
    "tahun lalu": 1, "thn lalu": 1, "tahun kemarin": 1, "tahun kemaren": 1, "thn kemarin": 1, "thn kmrn": 1,
    "setahun lalu": 1, "setahun yang lalu": 1, "setahun yg lalu": 1, "last year": 1, "a year ago": 1,
    "tahun depan": -1, "thn depan": -1, "next year": -1,
}  # fmt: skip
MONTH_WORDS: tuple[str, ...] = ("bulan", "bln", "month", "months")  # "3 bulan lalu", "bulan Mei"
YEAR_WORDS: tuple[str, ...] = ("tahun", "thn", "th", "year", "years")  # "2 tahun lalu", "tahun 2023"
LATER_WORDS: tuple[str, ...] = ("lagi", "from now")  # "3 hari lagi": the future
# Weekdays (Monday 0): "senin" is the last Monday up to today; "senin lalu" the one before today.
WEEKDAYS: dict[str, int] = {
    name: number
    for number, names in enumerate((
        ("senin", "monday", "mon"), ("selasa", "tuesday", "tue", "tues"), ("rabu", "wednesday", "wed"),
        ("kamis", "thursday", "thu", "thurs"), ("jumat", "jum'at", "jumaat", "jum at", "friday", "fri"),
        ("sabtu", "saturday", "sat"), ("minggu", "ahad", "sunday", "sun"),
    ))
    for name in names
}
WEEKDAY_PAST_WORDS: tuple[str, ...] = ("kemarin", "kemaren", "kmrn", "kmarin", "lalu", "yang lalu", "yg lalu",
                                       "kemarin ini", "last")  # "senin kemarin", "last monday"
WEEKDAY_PREFIX_WORDS: tuple[str, ...] = ("hari", "hr", "on", "pada hari")  # "hari senin", "on monday"
# Around an estimate: "sekitar 3 hari lalu", "kira-kira bulan Mei", "awal 2023". Dropped.
DATE_APPROX_WORDS: tuple[str, ...] = (
    "sekitar", "sekitaran", "kira-kira", "kira kira", "kira2", "kurang lebih", "kurleb", "mungkin", "kayaknya",
    "kayanya", "sepertinya", "seingat saya", "awal", "akhir", "pertengahan", "tengah", "sejak", "dari", "mulai",
    "about", "around", "approximately", "approx", "maybe", "early", "late", "mid", "since", "in", "probably",
)
# "I do not know when": a negation (SKIP_NEGATIONS) and one of KNOW_WORDS, or one of DONT_KNOW_WORDS.
KNOW_WORDS: tuple[str, ...] = ("tahu", "tau", "taw", "ingat", "inget", "ingat lagi", "yakin", "pasti", "ngerti")
DONT_KNOW_WORDS: tuple[str, ...] = (
    "lupa", "saya lupa", "sy lupa", "aku lupa", "sudah lupa", "udah lupa", "lupa tanggalnya", "lupa kapan",
    "entah", "entahlah", "gatau", "gtau", "gatahu", "ntah", "kurang tahu", "kurang tau", "kurang ingat",
    "tidak tahu pasti", "lupa lupa ingat", "don t know", "dont know", "do not know", "i don t know",
    "i dont know", "idk", "not sure", "i m not sure", "im not sure", "no idea", "forgot", "i forgot",
    "unknown", "don t remember", "i don t remember", "can t remember", "cannot remember", "not known",
)

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
# Month names only English uses: "may 24" is 24 May; "mei 24" (Indonesian) is May 2024.
ENGLISH_MONTH_WORDS: tuple[str, ...] = ("january", "february", "march", "may", "june", "july", "august", "october",
                                        "december", "aug", "oct", "dec")
DAY_WORDS: tuple[str, ...] = ("hari", "day", "days")  # "3 hari lalu"
WEEK_WORDS: tuple[str, ...] = ("minggu", "week", "weeks")
AGO_WORDS: tuple[str, ...] = ("lalu", "ago", "silam", "kemarin", "kemaren", "kmrn", "sebelumnya", "before")
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

# ---------------------------------------------------------------------------- first messages (dialogs.prefill)
# Openings a title drops ("sy mau lapor, jalan rusak" -> "Jalan rusak"), loose-normalised, longest first.
REPORT_OPENERS: tuple[str, ...] = (
    "assalamualaikum", "selamat pagi", "selamat siang", "selamat sore", "selamat malam", "permisi",
    "saya ingin melaporkan", "saya mau melaporkan", "sy mau melaporkan", "saya ingin lapor", "saya mau lapor",
    "sy mau lapor", "sya mau lapor", "aku mau lapor", "mau melaporkan", "ingin melaporkan", "mau lapor",
    "mau ngadu", "saya mau mengadu", "saya ingin mengadu", "mau mengadu", "melaporkan", "lapor", "ngadu",
    "i want to report", "i would like to report", "i want to complain about", "i want to complain",
    "report", "halo", "hallo", "hai", "hi", "hello", "pak", "bu", "min", "admin", "mohon", "tolong",
    "bahwa", "ada", "kalau", "that", "about",
)
# A place follows one of these words: "di desa Sukamaju", "depan SD Negeri 3", "near the market".
PLACE_PREPOSITIONS: tuple[str, ...] = ("di", "dekat", "depan", "samping", "belakang", "sekitar", "dkt", "dpn",
                                       "in", "at", "near", "of", "outside", "behind")
# After "di", only these (or a capitalised word) start a place: "di desa X" yes, "di laporkan" no.
PLACE_WORDS: tuple[str, ...] = (
    "desa", "ds", "kampung", "kp", "dusun", "dsn", "kelurahan", "kel", "kecamatan", "kec", "kabupaten", "kab",
    "kota", "jl", "jln", "jalan", "gang", "gg", "rt", "rw", "perumahan", "perum", "komplek", "kompleks",
    "pasar", "sd", "smp", "sma", "smk", "sdn", "smpn", "sman", "puskesmas", "rsud", "rs", "kantor", "balai",
    "terminal", "stasiun", "pelabuhan", "simpang", "perempatan", "pertigaan", "blok", "wilayah", "daerah",
    "kawasan", "village", "district", "street", "road", "city", "regency", "market", "school",
)
# A place ends before these words (or at punctuation): "di desa Sukamaju sejak kemarin".
PLACE_END_WORDS: tuple[str, ...] = (
    "sejak", "dari", "sudah", "sdh", "udah", "udh", "belum", "blm", "tapi", "tp", "dan", "yang", "yg", "karena",
    "krn", "sehingga", "jadi", "mohon", "tolong", "sampai", "hingga", "pada", "tanggal", "tgl", "kemarin",
    "kmrn", "tadi", "hari", "minggu", "bulan", "tahun", "sekarang", "sangat", "parah", "sering", "selalu",
    "masih", "terus", "rusak", "berlubang", "bolong", "mati", "tidak", "tdk", "gak", "ga", "nggak", "ngga",
    "since", "and", "but", "which", "because", "please", "for", "yesterday", "today", "last", "ago", "has",
    "have", "had", "is", "was", "are", "were", "been", "will", "it", "broken", "not",
)
PLACE_MAX_WORDS = 8
# A date phrase in a first message must hold one of these ("rusak sejak 2 minggu lalu").
DATE_CUE_WORDS: tuple[str, ...] = (
    "kemarin", "kemaren", "kmrn", "kmarin", "tadi", "semalam", "lalu", "yang lalu", "hari ini", "hr ini",
    "minggu", "bulan", "bln", "tahun", "thn", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu",
    "tanggal", "tgl", "yesterday", "today", "ago", "last", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus",
    "september", "oktober", "november", "desember", "january", "february", "march", "may", "june", "july",
    "august", "october", "december",
)
TITLE_MAX = 60  # characters of a title drawn from a first message, cut at a word
# Common words that tell the language of a first message (dialogs.prefill.detect_language).
ENGLISH_WORDS: tuple[str, ...] = (
    "the", "is", "are", "was", "were", "my", "our", "i", "we", "there", "has", "have", "been", "of", "and", "to",
    "in", "on", "at", "near", "since", "please", "not", "no", "for", "with", "this", "that", "it", "broken",
    "want", "report", "complain", "street", "road", "school", "hospital", "water",
)
INDONESIAN_WORDS: tuple[str, ...] = (
    "yang", "yg", "di", "dan", "saya", "sy", "aku", "ada", "tidak", "tdk", "gak", "ga", "ini", "itu", "sudah",
    "sdh", "udah", "mau", "ingin", "dengan", "dari", "ke", "untuk", "sejak", "belum", "rusak", "jalan", "jln",
    "mohon", "tolong", "lapor", "kami", "kita", "bgt", "banget", "parah", "desa", "kampung", "rumah",
)
# After CEK/STATUS, these ask for the list of one's reports ("cek status", "status laporan saya").
STATUS_LIST_WORDS: tuple[str, ...] = ("status", "laporan", "laporan saya", "status laporan", "status laporan saya",
                                      "report", "reports", "my report", "my reports", "status saya", "my status")

# Words that name a complaint category when the interpreter's classifier names none confidently
# (bot.nlu.interpreter): specific words only. Everyday ones that also mean something else stay
# out ("kk" is also kakak, "sd" near a road is still a road, "banjir" aid is social assistance).
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "population": ("ktp", "e-ktp", "ektp", "kartu keluarga", "akta kelahiran", "akte kelahiran", "dukcapil",
                   "kependudukan", "domisili", "pindah domisili"),
    "social_assistance": ("bansos", "pkh", "blt", "bpnt", "sembako", "prakerja", "dtks", "bantuan sosial"),
    "health": ("puskesmas", "rsud", "posyandu", "bpjs kesehatan", "ambulans", "vaksin", "imunisasi"),
    "education": ("ppdb", "zonasi", "beasiswa", "kip kuliah", "rapor", "ijazah"),
    "infrastructure": ("jalan rusak", "jalan berlubang", "pdam", "drainase", "lampu jalan", "lampu pju", "got mampet"),
}
