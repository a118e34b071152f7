//! WebDriver client (filled in below).
