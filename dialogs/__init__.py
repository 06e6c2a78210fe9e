"""The pure dialog engine and its scripts. Imports nothing from bot/, channels/ or storage/."""
